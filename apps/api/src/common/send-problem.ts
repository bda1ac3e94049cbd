import type { Request, Response } from 'express';
import { PROBLEM_CONTENT_TYPE, Problem } from '#libs/errors/problem';

export function sendProblem(req: Request, res: Response, body: Problem, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.status(body.status);
  res.locals.problemCode = body.code; // counted by the HTTP metrics
  res.setHeader('Content-Type', `${PROBLEM_CONTENT_TYPE}; charset=utf-8`);
  const instance = req.originalUrl.split('?')[0]!;
  // The OpenAI-compatible routes add OpenAI's error object, which the SDKs read their message from.
  const openAi = instance.startsWith('/v1/')
    ? { error: { message: openAiMessage(body), type: body.code, code: body.code, param: null } }
    : {};
  res.send(JSON.stringify({ ...body, instance, requestId: req.requestId, ...openAi }));
}

function openAiMessage(body: Problem): string {
  const fields = (body as { errors?: { field: string; message: string }[] }).errors;
  const detail = body.detail ?? body.title;
  return fields?.length ? `${detail}: ${fields.map((e) => `${e.field} ${e.message}`).join('; ')}` : detail;
}
