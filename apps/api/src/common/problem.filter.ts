import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { isDatabaseUnavailable } from '#libs/db/database-errors';
import { AppError, ServiceUnavailableError } from '#libs/errors/app-error';
import { CODE_FOR_STATUS } from '#libs/errors/http-status';
import { problem } from '#libs/errors/problem';
import type { Logger } from '#libs/logging/logger';
import { isRedisUnavailable } from '../infra/redis-errors';
import { sendProblem } from './send-problem';

/**
 * The one place errors become responses: domain errors by their code (whose status is in `http-status.ts`), Nest's by
 * status, anything else a bare 500.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(caught: unknown, host: ArgumentsHost): void {
    let error = caught;
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();

    // MySQL down or unreachable: the request changed nothing (its transaction never committed) and may be retried.
    if (!(error instanceof AppError) && isDatabaseUnavailable(error)) {
      this.logger.warn(
        { requestId: req.requestId, err: error instanceof Error ? error.message : String(error) },
        'database unavailable',
      );
      error = new ServiceUnavailableError('The database cannot be reached right now; try again shortly', 5);
    }
    // Redis down: what needs it (login's lockout count, a stream's first look-up) is refused, to be retried.
    if (!(error instanceof AppError) && isRedisUnavailable(error)) {
      this.logger.warn(
        { requestId: req.requestId, err: error instanceof Error ? error.message : String(error) },
        'redis unavailable',
      );
      error = new ServiceUnavailableError(
        'A service this request needs cannot be reached right now; try again shortly',
        5,
      );
    }
    if (error instanceof AppError) {
      const { code, detail, extra } = error;
      const { headers, ...extensions } = extra;
      sendProblem(req, res, problem(code, detail, extensions), headers);
      return;
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      if (status < 500) {
        const message = error.message;
        const routeMissing = status === 404 && /^Cannot [A-Z]+ /.test(message);
        // Nest's own errors carry a status only: the code that stands for it (its status is the table's).
        const code = routeMissing ? 'route_not_found' : (CODE_FOR_STATUS[status] ?? 'validation_failed');
        const detail = routeMissing ? `No route ${req.method} ${req.path}` : message;
        sendProblem(req, res, problem(code, detail));
        return;
      }
    }
    this.logger.error(
      {
        requestId: req.requestId,
        err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error),
      },
      'unhandled error',
    );
    sendProblem(req, res, problem('internal_error', 'Something went wrong on our side; the request id identifies it'));
  }
}
