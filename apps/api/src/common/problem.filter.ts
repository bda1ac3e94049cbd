import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError, ErrorCode } from '#libs/errors/app-error';
import { problem } from '#libs/errors/problem';
import type { Logger } from '#libs/logging/logger';
import { sendProblem } from './send-problem';

const CODES_BY_STATUS: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** The one place errors become responses: domain errors by code, Nest's by status, anything else a bare 500. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();

    if (error instanceof AppError) {
      const { headers, ...extensions } = error.extra;
      sendProblem(req, res, problem(error.status, error.code, error.detail, extensions), headers);
      return;
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      if (status < 500) {
        const message = error.message;
        const routeMissing = status === 404 && /^Cannot [A-Z]+ /.test(message);
        const code = routeMissing ? 'route_not_found' : (CODES_BY_STATUS[status] ?? 'validation_failed');
        const detail = routeMissing ? `No route ${req.method} ${req.path}` : message;
        sendProblem(req, res, problem(status, code, detail));
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
    sendProblem(
      req,
      res,
      problem(500, 'internal_error', 'Something went wrong on our side; the request id identifies it'),
    );
  }
}
