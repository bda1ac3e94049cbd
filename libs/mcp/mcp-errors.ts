import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { CircuitOpenError } from '../resilience/circuit-open.error';
import { ToolError } from '../tools/tool-definition';

/**
 * What went wrong talking to an MCP server, as a `ToolError` whose message the model (and an operator) can read:
 * retryable for what another attempt may fix (network, a crashed process, 5xx, an expired session, an open circuit),
 * not for what it cannot (a refused address, bad credentials, a protocol error the server reports). Never quotes
 * the server's configuration: headers hold credentials.
 */
export function toMcpToolError(error: unknown, server: string): ToolError {
  if (error instanceof ToolError) return error;
  if (error instanceof CircuitOpenError) {
    return new ToolError(
      `MCP server "${server}" is paused after repeated failures; retry in ${error.retryAfterMs} ms`,
      true,
    );
  }
  if (error instanceof McpError) {
    const code = error.code as ErrorCode;
    if (code === ErrorCode.RequestTimeout) return new ToolError(`MCP server "${server}" timed out`, true);
    if (code === ErrorCode.ConnectionClosed) {
      return new ToolError(`MCP server "${server}" closed the connection`, true);
    }
    // InternalError is the server's own failure and may pass; the others (invalid params, unknown method...) won't.
    return new ToolError(`MCP server "${server}" answered: ${error.message}`, code === ErrorCode.InternalError);
  }
  if (error instanceof UnauthorizedError) {
    return new ToolError(`MCP server "${server}" refused the credentials (HTTP 401)`);
  }
  if (error instanceof StreamableHTTPError) {
    const status = error.code ?? 0;
    if (status === 401 || status === 403) {
      return new ToolError(`MCP server "${server}" refused the credentials (HTTP ${status})`);
    }
    // 404 on a session: it expired (the server restarted); a new connection starts a new one.
    const retryable = status === 404 || status === 408 || status === 429 || status >= 500 || status === 0;
    return new ToolError(`MCP server "${server}" failed: HTTP ${status || 'error'}`, retryable);
  }
  const code = errorCode(error);
  if (code === 'ENOENT' || code === 'EACCES') {
    return new ToolError(`MCP server "${server}" could not be started (${code})`);
  }
  const detail = code ?? messageOf(error);
  return new ToolError(`MCP server "${server}" is unreachable: ${detail}`, true);
}

/** True when the connection that gave this error is no use any more and must be made again. */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof McpError) return (error.code as ErrorCode) === ErrorCode.ConnectionClosed;
  if (error instanceof ToolError || error instanceof CircuitOpenError) return false;
  return true; // transport errors: fetch failures, HTTP errors, a dead child process
}

/** True for the answer a server gives to a request in a session it no longer knows (it restarted). */
export function isSessionExpired(error: unknown): boolean {
  return error instanceof StreamableHTTPError && error.code === 404;
}

// Errors are read by shape, not `instanceof Error`: Node's own errors (spawn, fetch) may come from another realm.
type ErrorLike = { code?: unknown; message?: unknown; cause?: unknown };

/** The system error code of `error` or of its causes (fetch wraps ECONNREFUSED in a TypeError's cause). */
function errorCode(error: unknown): string | undefined {
  let current = error as ErrorLike | undefined;
  for (let depth = 0; current !== null && typeof current === 'object' && depth < 3; depth += 1) {
    if (typeof current.code === 'string') return current.code;
    current = current.cause as ErrorLike | undefined;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  const message = (error as ErrorLike | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
