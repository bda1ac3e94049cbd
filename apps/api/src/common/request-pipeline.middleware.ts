import { randomUUID } from 'node:crypto';
import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import { problem } from '../../../../libs/errors/problem';
import type { Logger } from '../../../../libs/logging/logger';
import { sendProblem } from './send-problem';
import './request-context';

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The first handlers every request meets, before Nest routes it: request id, access log,
 * content-type check and a size-limited JSON parser whose failures become problem+json.
 */
export function requestPipeline(options: { bodyLimitBytes: number; logger: Logger }): RequestHandler[] {
  const json = express.json({ limit: options.bodyLimitBytes, strict: true, type: () => true });

  const requestId: RequestHandler = (req, res, next) => {
    const given = req.header('x-request-id');
    req.requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    req.startedAt = process.hrtime.bigint();
    res.setHeader('X-Request-Id', req.requestId);
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - req.startedAt) / 1e6;
      const line = {
        requestId: req.requestId,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
      };
      if (res.statusCode >= 500) options.logger.error(line, 'request failed');
      else options.logger.info(line, 'request');
    });
    next();
  };

  const body: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    if (!BODY_METHODS.has(req.method)) return next();
    const length = Number(req.header('content-length') ?? 0);
    const hasBody = length > 0 || req.header('transfer-encoding') !== undefined;
    if (!hasBody) return next();
    if (!req.is('application/json') && !req.is('application/*+json')) {
      // Multipart uploads are parsed by their own route (files); everything else must be JSON.
      if (req.is('multipart/form-data')) return next();
      return sendProblem(req, res, problem(415, 'unsupported_media_type', 'Send the request body as application/json'));
    }
    json(req, res, (error?: unknown) => {
      if (!error) return next();
      const type = (error as { type?: string }).type;
      if (type === 'entity.too.large') {
        return sendProblem(
          req,
          res,
          problem(413, 'payload_too_large', `The body is larger than ${options.bodyLimitBytes} bytes`),
        );
      }
      if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
        return sendProblem(req, res, problem(415, 'unsupported_media_type', 'Send the body as UTF-8 JSON'));
      }
      return sendProblem(req, res, problem(400, 'invalid_json', 'The body is not valid JSON'));
    });
  };

  return [requestId, body];
}
