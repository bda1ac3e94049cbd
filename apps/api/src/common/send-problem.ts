import type { Request, Response } from 'express';
import { PROBLEM_CONTENT_TYPE, Problem } from '#libs/errors/problem';

export function sendProblem(req: Request, res: Response, body: Problem, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.status(body.status);
  res.setHeader('Content-Type', `${PROBLEM_CONTENT_TYPE}; charset=utf-8`);
  res.send(JSON.stringify({ ...body, instance: req.originalUrl.split('?')[0], requestId: req.requestId }));
}
