import { randomUUID } from 'node:crypto';
import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import { Problem, problem } from '#libs/errors/problem';
import { runWithLogContext } from '#libs/logging/log-context';
import type { Logger } from '#libs/logging/logger';
import { sendProblem } from './send-problem';
import './request-context';

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** A request's id: the client's `X-Request-Id` when well-formed (one value, 8-128 safe characters), else a new one. */
export function requestIdFrom(given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const MULTIPART_PATHS = /^\/api\/v1\/files\/?$/;
/** Deeper than any body this API defines; deep enough nesting would overflow the validators' recursion. */
export const MAX_BODY_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Bodies are JSON objects of bounded depth without prototype-polluting keys. Walked with an explicit stack,
 * so no input can exhaust the call stack here.
 */
export function checkBodyShape(body: unknown): Problem | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return problem('validation_failed', 'The body must be a JSON object', {
      errors: [{ field: '(body)', message: 'must be a JSON object' }],
    });
  }
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: body, depth: 1, path: '' }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_BODY_DEPTH) {
      return problem('validation_failed', `The body is nested deeper than ${MAX_BODY_DEPTH} levels`, {
        errors: [{ field: path || '(body)', message: `nests deeper than ${MAX_BODY_DEPTH} levels` }],
      });
    }
    for (const key of Object.keys(value)) {
      const field = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) {
        return problem('validation_failed', 'The request is not valid', {
          errors: [{ field, message: 'is not a known field' }],
        });
      }
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1, path: field });
    }
  }
  return undefined;
}

/**
 * The first handlers every request meets, before Nest routes it: request id, access log,
 * content-type check and a size-limited JSON parser whose failures become problem+json.
 */
export function requestPipeline(options: { bodyLimitBytes: number; logger: Logger }): RequestHandler[] {
  const json = express.json({ limit: options.bodyLimitBytes, strict: true, type: () => true });

  const requestId: RequestHandler = (req, res, next) => {
    req.requestId = requestIdFrom(req.header('x-request-id'));
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
      // Multipart uploads are parsed by the file routes alone; everywhere else the body must be JSON.
      if (req.is('multipart/form-data') && MULTIPART_PATHS.test(req.path)) return next();
      return sendProblem(req, res, problem('unsupported_media_type', 'Send the request body as application/json'));
    }
    json(req, res, (error?: unknown) => {
      if (!error) {
        const shapeProblem = checkBodyShape(req.body);
        if (shapeProblem) return sendProblem(req, res, shapeProblem);
        return next();
      }
      const type = (error as { type?: string }).type;
      if (type === 'entity.too.large') {
        return sendProblem(
          req,
          res,
          problem('payload_too_large', `The body is larger than ${options.bodyLimitBytes} bytes`),
        );
      }
      if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
        return sendProblem(req, res, problem('unsupported_media_type', 'Send the body as UTF-8 JSON'));
      }
      return sendProblem(req, res, problem('invalid_json', 'The body is not valid JSON (a JSON object is expected)'));
    });
  };

  // Last, after the body was read (its stream's callbacks run outside any request's context): from here on, every
  // log line written while serving the request carries its id.
  const logContext: RequestHandler = (req, _res, next) => runWithLogContext({ requestId: req.requestId }, next);

  return [requestId, body, logContext];
}
