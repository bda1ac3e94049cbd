import type { ErrorCode, FieldProblem } from './app-error';
import { HTTP_STATUS_OF } from './http-status';

/** RFC 9457 problem details as GigaChat sends them. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** A URN rather than a URL: nothing to dereference, and no domain we do not own. */
const TYPE_BASE = 'urn:gigachat:problem:';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  423: 'Locked',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The problem for a code; its status is the code's own (`http-status.ts`). */
export function problem(
  code: ErrorCode,
  detail: string,
  extensions: Omit<Partial<Problem>, 'type' | 'title' | 'status' | 'code' | 'detail'> = {},
): Problem {
  const status = HTTP_STATUS_OF[code];
  return {
    type: `${TYPE_BASE}${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...extensions,
  };
}
