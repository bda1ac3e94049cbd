import type { NextFunction, Request, Response } from 'express';
import type { ApiMetrics } from '#libs/metrics/metrics';

/**
 * Times every request and counts it by method, route template (`/api/v1/conversations/:id`, never the ids) and
 * status class; counts problem responses by code (`sendProblem` leaves it in `res.locals.problemCode`).
 */
export function httpMetrics(metrics: ApiMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const stop = metrics.httpDuration.startTimer();
    metrics.httpInFlight.inc();
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      metrics.httpInFlight.dec();
      const route = (req.route as { path?: string } | undefined)?.path;
      stop({
        method: req.method,
        route: route ? `${req.baseUrl}${route}` : 'other', // the web client's files, unknown paths
        status_class: `${Math.floor(res.statusCode / 100)}xx`,
      });
      const code = res.locals.problemCode as string | undefined;
      if (code) metrics.problems.inc({ code });
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };
}
