import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type { Response, Test } from 'supertest';
import { LOGGER } from '../apps/api/src/infra/di-symbols';
import { AccessTokenCodec } from '#libs/auth/access-token';
import type { Logger } from '#libs/logging/logger';
import { count, Harness, signUp, startHarness, waitFor } from './support/harness';
import { servedRoutes } from './support/served-routes';
import { uniqueSuffix } from './support/test-env';

/*
 * "Every bad input gets a clear problem+json 4xx naming the problem; nothing is written; the log line carries the
 * request id; never a 5xx." (shared/API.md, Errors)
 *
 * Each case below is one request. For every case the test checks the status, the problem+json shape (`code`,
 * `errors[].field`, `requestId` equal to the X-Request-Id header), the access-log line of that request id, and that
 * no table changed: row counts of every table, a checksum of every table but the audit log (so updates are caught,
 * not only inserts), and the API's Redis keys (session revocations). The only writes a rejected request may make are
 * the audit rows listed in its `audit` (failed logins are audited on purpose: AuthService.login) with the lockout's
 * failure count, and the rate limiter's request counters (bad requests count towards the limit too).
 *
 * Cases marked "Regression:" once failed (each comment says how); they keep the fix from coming undone.
 * To add a case, add a row to the table of its route.
 */

const API = '/api/v1';
/** Checked by name; any table a later migration adds is checked as well (see `snapshot`). */
const TABLES = ['users', 'sessions', 'conversations', 'messages', 'turns', 'audit_log', 'files', 'file_chunks'];
/**
 * Redis keys any request may write without it being a write of the request's: rate-limit counters (counting requests
 * is the point) and the marker that MySQL's revocations were copied into Redis (set by the first authenticated request
 * an API process serves, whatever it is).
 */
const RATE_LIMIT_KEYS = /:ratelimit:|:revoked-sessions:copied$/;
/** Redis keys a failed login writes on purpose (the account lockout counts failures). */
const LOCKOUT_KEYS = /:login-lockout:/;
const PROBLEM_JSON = /^application\/problem\+json(;|$)/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MISSING_ID = '00000000-0000-4000-8000-000000000000';
const STRONG_PASSWORD = 'correct horse battery staple';
const DEFAULT_BODY_LIMIT = 1024 * 1024;

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What the tests know about the world they attack. */
interface Ctx {
  auth: string;
  accessToken: string;
  email: string;
  password: string;
  userId: string;
  conversationId: string;
  turnId: string;
  /** The user and assistant messages of turnId. */
  userMessageId: string;
  assistantMessageId: string;
  /**
   * A second user's session, for the rows of edit and regenerate: they share the per-user `chat` rate limit (60 a
   * minute) with sendMessage's rows, and what they test is the input, not the limit.
   */
  chatAuth: string;
  /** A replay (one conversation, one arm) that ended before the cases run: its rows are there, nothing changes them. */
  replayId: string;
  /** A session that was logged out. */
  revokedAuth: string;
  /** Signed with the right key, expired an hour ago. */
  expiredAuth: string;
  /** Right key id, wrong key. */
  forgedAuth: string;
  /** Right key, wrong audience. */
  wrongAudienceAuth: string;
}

type Body =
  | { raw: string; type?: string; headers?: Record<string, string> }
  | { multipart: Record<string, string>; files?: { field: string; name: string; content: string | Buffer }[] };

interface Case {
  name: string;
  method: Method;
  path: string | ((c: Ctx) => string);
  /** Authorization header: the signed-up user's by default on protected routes, none on public ones. */
  auth?: 'user' | 'none' | ((c: Ctx) => string);
  headers?: (c: Ctx) => Record<string, string>;
  body?: Body | ((c: Ctx) => Body);
  status: number;
  /** The stable code; a list where the fix may reasonably pick either (see the case's comment). */
  code: string | readonly string[];
  /** The exact set of `errors[].field` names; omitted where a problem has no field list. */
  fields?: string[];
  /** Audit rows this request legitimately writes, in order. */
  audit?: { action: string; reason?: string }[];
  responseHeaders?: Record<string, string | RegExp>;
  /**
   * An upload refused only after its file part had begun: its ingest run was started first (as every upload's is, so a
   * crash leaves the clean-up to it) and ends abandoned — the one workflow a refused request may start.
   */
  startsRun?: boolean;
}

const json = (value: unknown): Body => ({ raw: JSON.stringify(value) });
const raw = (text: string, type = 'application/json'): Body => ({ raw: text, type });
const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const chars = (n: number, c = 'a'): string => c.repeat(n);
/** An email address of exactly `n` characters. */
const emailOf = (n: number): string => `${chars(n - '@example.com'.length)}@example.com`;
const freshEmail = (who: string): string => `${who}.${uniqueSuffix()}@example.com`;

interface RouteSpec {
  method: Method;
  path: string | ((c: Ctx) => string);
  public?: boolean;
}

const ROUTES = {
  register: { method: 'post', path: `${API}/auth/register`, public: true },
  login: { method: 'post', path: `${API}/auth/login`, public: true },
  refresh: { method: 'post', path: `${API}/auth/refresh`, public: true },
  logout: { method: 'post', path: `${API}/auth/logout` },
  me: { method: 'get', path: `${API}/auth/me` },
  changePassword: { method: 'post', path: `${API}/auth/password` },
  setupTwoFactor: { method: 'post', path: `${API}/auth/2fa/setup` },
  enableTwoFactor: { method: 'post', path: `${API}/auth/2fa/enable` },
  disableTwoFactor: { method: 'post', path: `${API}/auth/2fa/disable` },
  unlockUser: { method: 'post', path: (c: Ctx) => `${API}/admin/users/${c.userId}/unlock` },
  createConversation: { method: 'post', path: `${API}/conversations` },
  listConversations: { method: 'get', path: `${API}/conversations` },
  getConversation: { method: 'get', path: (c: Ctx) => `${API}/conversations/${c.conversationId}` },
  deleteConversation: { method: 'delete', path: (c: Ctx) => `${API}/conversations/${c.conversationId}` },
  sendMessage: { method: 'post', path: (c: Ctx) => `${API}/conversations/${c.conversationId}/messages` },
  getTurn: { method: 'get', path: (c: Ctx) => `${API}/turns/${c.turnId}` },
  cancelTurn: { method: 'post', path: (c: Ctx) => `${API}/turns/${c.turnId}/cancel` },
  listModels: { method: 'get', path: `${API}/models` },
  listTools: { method: 'get', path: `${API}/tools` },
  addMcpServer: { method: 'post', path: `${API}/mcp-servers` },
  listMcpServers: { method: 'get', path: `${API}/mcp-servers` },
  removeMcpServer: { method: 'delete', path: `${API}/mcp-servers/${MISSING_ID}` },
  startMcpOAuth: { method: 'post', path: `${API}/mcp-servers/${MISSING_ID}/oauth` },
  completeMcpOAuth: { method: 'post', path: `${API}/mcp-servers/oauth/complete` },
  approveToolCall: {
    method: 'post',
    path: (c: Ctx) => `${API}/turns/${c.turnId}/tool-calls/call_1/approve`,
  },
  denyToolCall: { method: 'post', path: (c: Ctx) => `${API}/turns/${c.turnId}/tool-calls/call_1/deny` },
  turnEvents: { method: 'get', path: (c: Ctx) => `${API}/turns/${c.turnId}/events` },
  shareConversation: { method: 'post', path: (c: Ctx) => `${API}/conversations/${c.conversationId}/shares` },
  listShares: { method: 'get', path: (c: Ctx) => `${API}/conversations/${c.conversationId}/shares` },
  updateConversation: { method: 'patch', path: (c: Ctx) => `${API}/conversations/${c.conversationId}` },
  listMessages: { method: 'get', path: (c: Ctx) => `${API}/conversations/${c.conversationId}/messages` },
  exportConversation: { method: 'get', path: (c: Ctx) => `${API}/conversations/${c.conversationId}/export` },
  importConversation: { method: 'post', path: `${API}/conversations/import` },
  editMessage: { method: 'patch', path: (c: Ctx) => `${API}/messages/${c.userMessageId}` },
  regenerateMessage: { method: 'post', path: (c: Ctx) => `${API}/messages/${c.assistantMessageId}/regenerate` },
  messageFeedback: { method: 'post', path: (c: Ctx) => `${API}/messages/${c.assistantMessageId}/feedback` },
  searchMessages: { method: 'get', path: `${API}/search/messages` },
  uploadFile: { method: 'post', path: `${API}/files` },
  listFiles: { method: 'get', path: `${API}/files` },
  getFile: { method: 'get', path: `${API}/files/${MISSING_ID}` },
  fileContent: { method: 'get', path: `${API}/files/${MISSING_ID}/content` },
  deleteFile: { method: 'delete', path: `${API}/files/${MISSING_ID}` },
  revokeShare: { method: 'delete', path: (c: Ctx) => `${API}/conversations/${c.conversationId}/shares/${MISSING_ID}` },
  createToken: { method: 'post', path: `${API}/tokens` },
  listTokens: { method: 'get', path: `${API}/tokens` },
  getToken: { method: 'get', path: `${API}/tokens/${MISSING_ID}` },
  revokeToken: { method: 'delete', path: `${API}/tokens/${MISSING_ID}` },
  listUsers: { method: 'get', path: `${API}/admin/users` },
  updateUser: { method: 'patch', path: (c: Ctx) => `${API}/admin/users/${c.userId}` },
  listAudit: { method: 'get', path: `${API}/admin/audit` },
  codecEncode: { method: 'post', path: `${API}/codec/encode` },
  codecDecode: { method: 'post', path: `${API}/codec/decode` },
  openCodecSession: { method: 'post', path: `${API}/codec/session` },
  closeCodecSession: { method: 'delete', path: `${API}/codec/session` },
  createReplay: { method: 'post', path: `${API}/replays` },
  listReplays: { method: 'get', path: `${API}/replays` },
  getReplay: { method: 'get', path: (c: Ctx) => `${API}/replays/${c.replayId}` },
  replayResults: { method: 'get', path: (c: Ctx) => `${API}/replays/${c.replayId}/results` },
  replayReport: { method: 'get', path: (c: Ctx) => `${API}/replays/${c.replayId}/report` },
  pauseReplay: { method: 'post', path: (c: Ctx) => `${API}/replays/${c.replayId}/pause` },
  resumeReplay: { method: 'post', path: (c: Ctx) => `${API}/replays/${c.replayId}/resume` },
  cancelReplay: { method: 'post', path: (c: Ctx) => `${API}/replays/${c.replayId}/cancel` },
  openAiModels: { method: 'get', path: '/v1/models' },
  openAiCompletions: { method: 'post', path: '/v1/chat/completions' },
} satisfies Record<string, RouteSpec>;

type CaseRow = Omit<Case, 'method' | 'path'> & { path?: Case['path'] };

function on(route: RouteSpec, rows: CaseRow[]): Case[] {
  return rows.map((row) => ({
    method: route.method,
    path: route.path,
    auth: route.public ? 'none' : 'user',
    ...row,
  }));
}

/** The same URL with the last path segment replaced. */
function withId(route: RouteSpec, id: string): (c: Ctx) => string {
  return (c) => {
    const path = typeof route.path === 'function' ? route.path(c) : route.path;
    return path.replace(/[^/]+(\/messages|\/unlock)?$/, (_, tail: string | undefined) => `${id}${tail ?? ''}`);
  };
}

/** Bodies that fail before any DTO sees them: the JSON parser, the content-type check, the size limit. */
function unparsableBodies(): CaseRow[] {
  return [
    { name: 'malformed JSON', body: raw('{"email": '), status: 400, code: 'invalid_json' },
    { name: 'JSON followed by garbage', body: raw('{} trailing'), status: 400, code: 'invalid_json' },
    { name: 'single-quoted pseudo-JSON', body: raw("{'a': 1}"), status: 400, code: 'invalid_json' },
    { name: 'a trailing comma', body: raw('{"a": 1,}'), status: 400, code: 'invalid_json' },
    { name: 'a JSON string', body: raw('"just a string"'), status: 400, code: 'invalid_json' },
    { name: 'a JSON number', body: raw('42'), status: 400, code: 'invalid_json' },
    { name: 'JSON null', body: raw('null'), status: 400, code: 'invalid_json' },
    { name: 'JSON true', body: raw('true'), status: 400, code: 'invalid_json' },
    { name: 'text/plain', body: raw('{}', 'text/plain'), status: 415, code: 'unsupported_media_type' },
    {
      name: 'form-urlencoded',
      body: raw('email=a%40b.c&password=x', 'application/x-www-form-urlencoded'),
      status: 415,
      code: 'unsupported_media_type',
    },
    { name: 'application/xml', body: raw('<a/>', 'application/xml'), status: 415, code: 'unsupported_media_type' },
    { name: 'no Content-Type', body: raw('{}', ''), status: 415, code: 'unsupported_media_type' },
    {
      name: 'JSON in a charset other than UTF-8',
      body: raw('{}', 'application/json; charset=latin1'),
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'an unknown Content-Encoding',
      body: { raw: '{}', type: 'application/json', headers: { 'Content-Encoding': 'zstd-ish' } },
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'a body over the 1 MiB limit',
      body: json({ pad: chars(DEFAULT_BODY_LIMIT) }),
      status: 413,
      code: 'payload_too_large',
    },
  ];
}

/** Bodies that parse but are not what a DTO route takes. */
function badShapes(): CaseRow[] {
  return [
    ...unparsableBodies(),
    {
      // Regression: a JSON-body route that did not parse files let multipart through, and the handler then saw no body
      // at all, answering "email must be a string" etc. instead of naming the content type.
      name: 'multipart/form-data',
      body: { multipart: { email: 'a@example.com' } },
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      // A JSON array is valid JSON but not an object: either code names the problem well enough.
      name: 'a JSON array',
      body: raw('[{"a": 1}]'),
      status: 400,
      code: ['validation_failed', 'invalid_json'],
    },
    {
      // Regression: class-transformer recursed into every value and overflowed the stack (RangeError → 500).
      name: 'deeply nested JSON (5 000 levels, 10 kB)',
      body: raw(`{"pad": ${nested(5000)}}`),
      status: 400,
      code: ['validation_failed', 'invalid_json'],
    },
  ];
}

/** The Authorization headers that must not get anyone in. */
function badTokens(): CaseRow[] {
  const unauthorized = { status: 401, code: 'unauthorized', responseHeaders: { 'www-authenticate': /^Bearer/ } };
  return [
    { name: 'no Authorization header', auth: 'none', ...unauthorized },
    { name: 'an empty bearer token', auth: () => 'Bearer ', ...unauthorized },
    { name: 'a garbage bearer token', auth: () => 'Bearer not-a-token-at-all', ...unauthorized },
    { name: 'a Basic credential', auth: () => 'Basic YWRhOnBhc3N3b3Jk', ...unauthorized },
    { name: 'the token without a scheme', auth: (c) => c.accessToken, ...unauthorized },
    { name: 'two spaces after Bearer', auth: (c) => `Bearer  ${c.accessToken}`, ...unauthorized },
    { name: 'a 5 000-character token', auth: () => `Bearer v4.local.${chars(5000, 'A')}`, ...unauthorized },
    { name: 'a v4.local token with a garbage body', auth: () => `Bearer v4.local.${chars(120, 'A')}`, ...unauthorized },
    { name: 'a tampered token', auth: (c) => `Bearer ${tamper(c.accessToken)}`, ...unauthorized },
    { name: 'a token sealed with another key', auth: (c) => c.forgedAuth, ...unauthorized },
    { name: 'a token for another audience', auth: (c) => c.wrongAudienceAuth, ...unauthorized },
    { name: 'a token of a logged-out session', auth: (c) => c.revokedAuth, ...unauthorized },
    {
      name: 'an expired token',
      auth: (c) => c.expiredAuth,
      status: 401,
      code: 'token_expired',
      responseHeaders: { 'www-authenticate': /^Bearer/ },
    },
  ];
}

function tamper(token: string): string {
  const at = 'v4.local.'.length + 20;
  return `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
}

/** Every bad UUID path parameter, for a route whose last `:param` is `field`. */
function badIds(route: RouteSpec, field: string): CaseRow[] {
  const invalid = (name: string, id: string): CaseRow => ({
    name,
    path: withId(route, id),
    status: 400,
    code: 'validation_failed',
    fields: [field],
  });
  return [
    invalid('a non-UUID id', 'abc'),
    invalid('a UUID one character short', '123e4567-e89b-12d3-a456-42661417400'),
    invalid('a UUID in braces', encodeURIComponent('{123e4567-e89b-12d3-a456-426614174000}')),
    invalid('an SQL-injection id', encodeURIComponent("' OR 1=1 --")),
    invalid('a NUL byte', '%00'),
    {
      name: 'an id that is not valid percent-encoding',
      path: withId(route, '%E0%A4%A'),
      status: 400,
      code: 'validation_failed',
    },
    { name: 'an id nobody has', path: withId(route, MISSING_ID), status: 404, code: 'not_found' },
  ];
}

/** A message of the export format that passes every field check (the tree checks are another matter). */
function importedMessage(id: string, parentId: string | null, role = 'user'): Record<string, unknown> {
  return {
    id,
    parentId,
    role,
    content: 'hello',
    status: 'complete',
    model: null,
    citations: [],
    usage: null,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

function importFile(messages: unknown[], over: Record<string, unknown> = {}, conversation: object = {}): Body {
  return json({
    format: 'gigachat.conversation',
    version: 1,
    conversation: {
      title: 'Imported',
      model: null,
      systemPrompt: null,
      archived: false,
      currentMessageId: null,
      ...conversation,
    },
    messages,
    ...over,
  });
}

/** A multipart upload of the given parts (no text fields). */
const upload = (...files: { field?: string; name: string; content: string | Buffer }[]): Body => ({
  multipart: {},
  files: files.map((file) => ({ field: file.field ?? 'file', ...file })),
});

/** The file routes: uploads refused for their body, their file or its name, and bad ids and pages. */
function fileCases(): Case[] {
  const fileIds = (route: RouteSpec, tail = ''): CaseRow[] =>
    badIds({ method: route.method, path: `${API}/files/${MISSING_ID}` }, 'id').map((row) => ({
      ...row,
      path: (c: Ctx) => `${(row.path as (c: Ctx) => string)(c)}${tail}`,
    }));
  const refused = (name: string, body: Body, status: number, code: string, fields?: string[]): CaseRow => ({
    name,
    body,
    status,
    code,
    ...(fields ? { fields } : {}),
  });
  const boundary = '----bad-input-boundary';
  const part = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\n\r\nsome text`;
  return [
    ...on(ROUTES.uploadFile, [
      ...unparsableBodies(),
      ...badTokens(),
      refused('an empty JSON object (not multipart)', json({}), 400, 'validation_failed', ['file']),
      refused('no body at all', { raw: '', type: 'application/json' }, 400, 'validation_failed', ['file']),
      refused('multipart with a text field and no file', { multipart: { note: 'hi' } }, 400, 'validation_failed', [
        'file',
        'note',
      ]),
      refused(
        'the file under another field name',
        upload({ field: 'upload', name: 'a.txt', content: 'a' }),
        400,
        'validation_failed',
        ['file', 'upload'],
      ),
      {
        ...refused(
          'two files',
          upload({ name: 'a.txt', content: 'first' }, { name: 'b.txt', content: 'second' }),
          400,
          'validation_failed',
          ['file'],
        ),
        startsRun: true,
      },
      refused('an empty file', upload({ name: 'empty.txt', content: '' }), 400, 'validation_failed', ['file']),
      refused('a name of only dots', upload({ name: '...', content: 'dots' }), 400, 'validation_failed', ['file']),
      refused('a name that is only a path', upload({ name: '../../', content: 'x' }), 400, 'validation_failed', [
        'file',
      ]),
      refused(
        'an executable',
        upload({ name: 'tool.exe', content: Buffer.from([0x4d, 0x5a, 0x90, 0, 3, 0]) }),
        415,
        'unsupported_media_type',
      ),
      refused('a file without an extension', upload({ name: 'README', content: 'hi' }), 415, 'unsupported_media_type'),
      refused('text named .pdf', upload({ name: 'paper.pdf', content: 'not a pdf' }), 415, 'unsupported_media_type'),
      refused(
        'a PNG named .txt',
        upload({ name: 'photo.txt', content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]) }),
        415,
        'unsupported_media_type',
      ),
      refused(
        'JSON that is not an object or array, named .json',
        upload({ name: 'x.json', content: 'plain' }),
        415,
        'unsupported_media_type',
      ),
      refused('multipart without a boundary', raw('--x\r\n', 'multipart/form-data'), 400, 'validation_failed', [
        'file',
      ]),
      refused(
        'a multipart body cut off inside the file',
        raw(part, `multipart/form-data; boundary=${boundary}`),
        400,
        'validation_failed',
        ['file'],
      ),
    ]),

    ...on(ROUTES.listFiles, [
      ...badTokens(),
      ...(
        [
          ['limit=0', 'limit'],
          ['limit=101', 'limit'],
          ['limit=abc', 'limit'],
          ['cursor=not-a-cursor', 'cursor'],
          [`cursor=${chars(513)}`, 'cursor'],
          ['status=ready', 'status'],
        ] as const
      ).map(([query, field]): CaseRow => ({
        name: `?${query.length > 40 ? `${query.slice(0, 40)}…` : query}`,
        path: `${API}/files?${query}`,
        status: 400,
        code: 'validation_failed',
        fields: [field],
      })),
    ]),
    ...on(ROUTES.getFile, [...badTokens(), ...fileIds(ROUTES.getFile)]),
    ...on(ROUTES.fileContent, [...badTokens(), ...fileIds(ROUTES.fileContent, '/content')]),
    ...on(ROUTES.deleteFile, [...badTokens(), ...fileIds(ROUTES.deleteFile)]),
  ];
}

/**
 * Batch replays: a request is refused whole — bad shapes, unknown or unreadable conversations (404 naming them), models
 * nobody serves, empty selections, absurd limits — before anything is written or started. The ended replay of
 * `ctx.replayId` is the target of the other routes.
 */
function replayCases(): Case[] {
  const valid = (c: Ctx) => ({
    selection: { conversationIds: [c.conversationId] },
    arms: [{ model: 'fake-model' }],
    mode: 'pinned',
  });
  const invalid = (name: string, body: (c: Ctx) => unknown, fields: string[]): CaseRow => ({
    name,
    body: (c) => json(body(c)),
    status: 400,
    code: 'validation_failed',
    fields,
  });
  const replayIds = (tail: string): CaseRow[] =>
    badIds({ method: 'get', path: `${API}/replays/${MISSING_ID}` }, 'id').map((row) => ({
      ...row,
      path: (c: Ctx) => `${(row.path as (c: Ctx) => string)(c)}${tail}`,
    }));
  const queryRows = (tail: string, rows: (readonly [string, string])[]): CaseRow[] =>
    rows.map(([query, field]) => ({
      name: `?${query.length > 40 ? `${query.slice(0, 40)}…` : query}`,
      path: (c: Ctx) => `${API}/replays/${c.replayId}${tail}?${query}`,
      status: 400,
      code: 'validation_failed',
      fields: [field],
    }));
  const control = (action: string): CaseRow[] => [
    ...badTokens(),
    ...replayIds(`/${action}`),
    { name: 'a replay that has ended', status: 409, code: 'conflict' },
  ];
  return [
    ...on(ROUTES.createReplay, [
      ...badShapes(),
      ...badTokens(),
      invalid('an empty object', () => ({}), ['selection', 'arms', 'mode']),
      invalid('an empty selection', (c) => ({ ...valid(c), selection: {} }), ['selection']),
      invalid(
        'ids and filters together',
        (c) => ({ ...valid(c), selection: { conversationIds: [c.conversationId], userId: c.userId } }),
        ['selection'],
      ),
      invalid('no conversation ids', (c) => ({ ...valid(c), selection: { conversationIds: [] } }), [
        'selection.conversationIds',
      ]),
      invalid('an id that is not a UUID', (c) => ({ ...valid(c), selection: { conversationIds: ['abc'] } }), [
        'selection.conversationIds',
      ]),
      invalid(
        'the same conversation twice',
        (c) => ({ ...valid(c), selection: { conversationIds: [c.conversationId, c.conversationId] } }),
        ['selection.conversationIds'],
      ),
      invalid('a since that is not a date-time', (c) => ({ ...valid(c), selection: { since: 'yesterday' } }), [
        'selection.since',
      ]),
      invalid(
        'until before since',
        (c) => ({ ...valid(c), selection: { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' } }),
        ['selection.until'],
      ),
      invalid('a search with no searchable word', (c) => ({ ...valid(c), selection: { query: '!!! ???' } }), [
        'selection.query',
      ]),
      invalid('a selection that matches nothing', (c) => ({ ...valid(c), selection: { userId: MISSING_ID } }), [
        'selection',
      ]),
      invalid('no arms', (c) => ({ ...valid(c), arms: [] }), ['arms']),
      invalid('nine arms', (c) => ({ ...valid(c), arms: Array.from({ length: 9 }, () => ({ model: 'fake-model' })) }), [
        'arms',
      ]),
      invalid('an arm whose model nobody serves', (c) => ({ ...valid(c), arms: [{ model: 'no-such-model' }] }), [
        'arms.0.model',
      ]),
      invalid('a model name with a space', (c) => ({ ...valid(c), arms: [{ model: 'gpt 4' }] }), ['arms.0.model']),
      invalid(
        'an arm with an unknown field',
        (c) => ({ ...valid(c), arms: [{ model: 'fake-model', temperature: 2 }] }),
        ['arms.0.temperature'],
      ),
      invalid('retrieval as a string', (c) => ({ ...valid(c), arms: [{ model: 'fake-model', retrieval: 'yes' }] }), [
        'arms.0.retrieval',
      ]),
      invalid('an unknown mode', (c) => ({ ...valid(c), mode: 'replay' }), ['mode']),
      invalid('a judge model nobody serves', (c) => ({ ...valid(c), judge: { model: 'no-such-judge' } }), [
        'judge.model',
      ]),
      invalid(
        'a judge against the first arm with one arm',
        (c) => ({ ...valid(c), judge: { model: 'fake-model', against: 'first-arm' } }),
        ['judge.against'],
      ),
      invalid('a negative seed', (c) => ({ ...valid(c), judge: { model: 'fake-model', seed: -1 } }), ['judge.seed']),
      invalid('concurrency 0', (c) => ({ ...valid(c), limits: { concurrency: 0 } }), ['limits.concurrency']),
      invalid('concurrency 10 000', (c) => ({ ...valid(c), limits: { concurrency: 10_000 } }), ['limits.concurrency']),
      invalid('maxConversations 0', (c) => ({ ...valid(c), limits: { maxConversations: 0 } }), [
        'limits.maxConversations',
      ]),
      invalid('maxConversations 10 million', (c) => ({ ...valid(c), limits: { maxConversations: 1e7 } }), [
        'limits.maxConversations',
      ]),
      invalid('1.5 turns per conversation', (c) => ({ ...valid(c), limits: { maxTurnsPerConversation: 1.5 } }), [
        'limits.maxTurnsPerConversation',
      ]),
      invalid(
        'a provider nobody configured',
        (c) => ({ ...valid(c), limits: { providers: [{ name: 'nope', concurrency: 1 }] } }),
        ['limits.providers.0.name'],
      ),
      invalid(
        'a rate of a million requests per second',
        (c) => ({ ...valid(c), limits: { providers: [{ name: 'openai-compatible', requestsPerSecond: 1e6 }] } }),
        ['limits.providers.0.requestsPerSecond'],
      ),
      {
        name: 'a conversation nobody has',
        body: (c) => json({ ...valid(c), selection: { conversationIds: [c.conversationId, MISSING_ID] } }),
        status: 404,
        code: 'not_found',
      },
      {
        name: 'a bad Idempotency-Key',
        headers: () => ({ 'Idempotency-Key': 'has spaces in it' }),
        body: (c) => json(valid(c)),
        status: 400,
        code: 'validation_failed',
        fields: ['Idempotency-Key'],
      },
    ]),
    ...on(ROUTES.listReplays, [
      ...badTokens(),
      ...(
        [
          ['limit=0', 'limit'],
          ['limit=101', 'limit'],
          ['cursor=not-a-cursor', 'cursor'],
          ['status=running', 'status'],
        ] as const
      ).map(([query, field]): CaseRow => ({
        name: `?${query}`,
        path: `${API}/replays?${query}`,
        status: 400,
        code: 'validation_failed',
        fields: [field],
      })),
    ]),
    ...on(ROUTES.getReplay, [...badTokens(), ...replayIds('')]),
    ...on(ROUTES.replayResults, [
      ...badTokens(),
      ...replayIds('/results'),
      ...queryRows('/results', [
        ['arm=-1', 'arm'],
        ['arm=8', 'arm'],
        ['arm=1', 'arm'], // this replay has one arm
        ['arm=one', 'arm'],
        ['bucket=better', 'bucket'],
        ['cursor=not-a-cursor', 'cursor'],
        ['limit=101', 'limit'],
      ]),
    ]),
    ...on(ROUTES.replayReport, [
      ...badTokens(),
      ...replayIds('/report'),
      ...queryRows('/report', [
        ['format=pdf', 'format'],
        ['format=md&format=csv', 'format'],
      ]),
    ]),
    ...on(ROUTES.pauseReplay, control('pause')),
    ...on(ROUTES.resumeReplay, control('resume')),
    ...on(ROUTES.cancelReplay, control('cancel')),
  ];
}

/** Conversation PATCH, messages, export/import, branches (edit, regenerate), feedback and message search. */
function conversationFeatureCases(): Case[] {
  const M1 = '11111111-1111-4111-8111-111111111111';
  const M2 = '22222222-2222-4222-8222-222222222222';
  const chat = (row: CaseRow): CaseRow => ({ auth: (c: Ctx) => c.chatAuth, ...row });
  const queryRows = (base: string, rows: (readonly [string, string])[]): CaseRow[] =>
    rows.map(([query, field]) => ({
      name: `?${query.length > 40 ? `${query.slice(0, 40)}…` : query}`,
      path: `${API}${base}?${query}`,
      status: 400,
      code: 'validation_failed',
      fields: [field],
    }));
  const invalid = (name: string, body: unknown, fields: string[]): CaseRow => ({
    name,
    body: json(body),
    status: 400,
    code: 'validation_failed',
    fields,
  });
  return [
    ...on(ROUTES.updateConversation, [
      ...badShapes(),
      ...badTokens(),
      ...badIds(ROUTES.updateConversation, 'id').map((row) => ({ ...row, body: json({ title: 'renamed' }) })),
      {
        name: 'a model no provider serves',
        body: json({ model: 'no-such-model' }),
        status: 400,
        code: 'validation_failed',
        fields: ['model'],
      },
      invalid('an empty object', {}, ['(body)']),
      invalid('a null title and archived', { title: null, archived: null }, ['title', 'archived']),
      invalid('a white-space title', { title: ' \t ' }, ['title']),
      invalid('a 201-character title', { title: chars(201) }, ['title']),
      invalid('archived as a string', { archived: 'true' }, ['archived']),
      invalid('a model name with a space', { model: 'gpt 4' }, ['model']),
      invalid('a 20 001-character systemPrompt', { systemPrompt: chars(20_001) }, ['systemPrompt']),
      invalid('tools as a string', { tools: 'calculator' }, ['tools']),
      invalid('a tool nobody offers', { tools: ['no_such_tool'] }, ['tools']),
      invalid('33 tools', { tools: Array.from({ length: 33 }, (_, i) => `tool_${i}`) }, ['tools']),
      invalid('a currentMessageId that is not a UUID', { currentMessageId: 'the-last-one' }, ['currentMessageId']),
      invalid('an unknown field (ownerId)', { title: 'x', ownerId: MISSING_ID }, ['ownerId']),
      {
        name: 'a currentMessageId nobody has',
        body: json({ currentMessageId: MISSING_ID }),
        status: 404,
        code: 'not_found',
      },
    ]),

    ...on(ROUTES.listMessages, [
      ...badTokens(),
      ...badIds(ROUTES.listMessages, 'id'),
      ...queryRows('/conversations/00000000-0000-4000-8000-000000000000/messages', [
        ['limit=0', 'limit'],
        ['limit=101', 'limit'],
        ['cursor=not-a-cursor', 'cursor'],
        ['sort=createdAt', 'sort'],
      ]).map((row) => ({
        ...row,
        path: (c: Ctx) => (row.path as string).replace(MISSING_ID, c.conversationId),
      })),
    ]),

    ...on(ROUTES.exportConversation, [
      ...badTokens(),
      ...badIds(ROUTES.getConversation, 'id').map((row) => ({
        ...row,
        path: (c: Ctx) => `${(row.path as (x: Ctx) => string)(c)}/export`,
      })),
      ...(
        [
          ['format=pdf', 'format'],
          ['format=json&format=md', 'format'],
          ['download=1', 'download'],
        ] as const
      ).map(([query, field]): CaseRow => ({
        name: `?${query}`,
        path: (c: Ctx) => `${API}/conversations/${c.conversationId}/export?${query}`,
        status: 400,
        code: 'validation_failed',
        fields: [field],
      })),
    ]),

    ...on(ROUTES.importConversation, [
      ...badShapes(),
      ...badTokens(),
      invalid('an empty object', {}, ['format', 'version', 'conversation', 'messages']),
      {
        name: 'conversation tools that are not tool names',
        body: importFile([], {}, { tools: ['Bad-Name', 7] }),
        status: 400,
        code: 'validation_failed',
        fields: ['conversation.tools'],
      },
      {
        name: 'another format and version',
        body: importFile([], { format: 'chatgpt.export', version: '1' }),
        status: 400,
        code: 'validation_failed',
        fields: ['format', 'version'],
      },
      {
        name: 'a parentId that is not in the file',
        body: importFile([importedMessage(M1, null), importedMessage(M2, MISSING_ID, 'assistant')]),
        status: 400,
        code: 'validation_failed',
        fields: ['messages.1.parentId'],
      },
      {
        name: 'a cycle of parents',
        body: importFile([importedMessage(M1, M2), importedMessage(M2, M1, 'assistant')]),
        status: 400,
        code: 'validation_failed',
        fields: ['messages.0.parentId', 'messages.1.parentId'],
      },
      {
        name: 'a message that is its own parent',
        body: importFile([importedMessage(M1, M1)]),
        status: 400,
        code: 'validation_failed',
        fields: ['messages.0.parentId'],
      },
      {
        name: 'a duplicate message id',
        body: importFile([importedMessage(M1, null), importedMessage(M1, null)]),
        status: 400,
        code: 'validation_failed',
        fields: ['messages.1.id'],
      },
      {
        name: 'an unknown role (tool)',
        body: importFile([importedMessage(M1, null, 'tool')]),
        status: 400,
        code: 'validation_failed',
        fields: ['messages.0.role'],
      },
      {
        name: 'a currentMessageId that is not in the file',
        body: importFile([importedMessage(M1, null)], {}, { currentMessageId: M2 }),
        status: 400,
        code: 'validation_failed',
        fields: ['conversation.currentMessageId'],
      },
      {
        name: 'an unknown field in a message',
        body: importFile([{ ...importedMessage(M1, null), turnId: MISSING_ID }]),
        status: 400,
        code: 'validation_failed',
        fields: ['messages.0.turnId'],
      },
      {
        name: 'a citation of an unknown kind',
        body: importFile([{ ...importedMessage(M1, null), citations: [{ kind: 'book', title: 't', snippet: 's' }] }]),
        status: 400,
        code: 'validation_failed',
        fields: ['messages.0.citations.0.kind'],
      },
      {
        name: 'a createdAt that is not a date',
        body: importFile([{ ...importedMessage(M1, null), createdAt: 'yesterday' }]),
        status: 400,
        code: 'validation_failed',
        fields: ['messages.0.createdAt'],
      },
      {
        name: 'more than 5 000 messages',
        body: importFile(Array.from({ length: 5001 }, () => importedMessage(M1, null))),
        status: 400,
        code: 'validation_failed',
        fields: ['messages'],
      },
    ]),

    ...on(ROUTES.editMessage, [
      ...badShapes().map(chat),
      ...badTokens(),
      ...badIds(ROUTES.editMessage, 'id').map((row) => chat({ ...row, body: json({ content: 'hello' }) })),
      chat(invalid('an empty object', {}, ['content'])),
      chat(invalid('white-space content', { content: ' \n ' }, ['content'])),
      chat(invalid('a 100 001-character content', { content: chars(100_001) }, ['content'])),
      chat(
        invalid('a parentMessageId (edits keep the parent)', { content: 'x', parentMessageId: MISSING_ID }, [
          'parentMessageId',
        ]),
      ),
      chat(invalid('a model name with a space', { content: 'x', model: 'gpt 4' }, ['model'])),
      chat({
        name: 'an Idempotency-Key with a space',
        headers: () => ({ 'Idempotency-Key': 'two words' }),
        body: json({ content: 'hello' }),
        status: 400,
        code: 'validation_failed',
        fields: ['Idempotency-Key'],
      }),
    ]),

    ...on(ROUTES.regenerateMessage, [
      ...unparsableBodies().map(chat),
      ...badTokens(),
      ...badIds(ROUTES.editMessage, 'id').map((row) =>
        chat({ ...row, path: (c: Ctx) => `${(row.path as (x: Ctx) => string)(c)}/regenerate` }),
      ),
      chat(invalid('an unknown field (content)', { content: 'again' }, ['content'])),
      chat(invalid('a model name with a space', { model: 'gpt 4' }, ['model'])),
    ]),

    ...on(ROUTES.messageFeedback, [
      ...badShapes(),
      ...badTokens(),
      ...badIds(ROUTES.editMessage, 'id').map((row) => ({
        ...row,
        path: (c: Ctx) => `${(row.path as (x: Ctx) => string)(c)}/feedback`,
        body: json({ rating: 'up' }),
      })),
      invalid('an empty object', {}, ['rating']),
      invalid('an unknown rating', { rating: 'meh' }, ['rating']),
      invalid('a 2 001-character comment', { rating: 'down', comment: chars(2001) }, ['comment']),
      invalid('a numeric comment', { rating: 'down', comment: 5 }, ['comment']),
      invalid('an unknown field (userId)', { rating: 'up', userId: MISSING_ID }, ['userId']),
      {
        name: 'feedback on a user message',
        path: (c: Ctx) => `${API}/messages/${c.userMessageId}/feedback`,
        body: json({ rating: 'up' }),
        status: 400,
        code: 'validation_failed',
        fields: ['id'],
      },
    ]),

    ...on(ROUTES.searchMessages, [
      ...badTokens(),
      {
        name: 'no q',
        status: 400,
        code: 'validation_failed',
        fields: ['q'],
      },
      ...queryRows('/search/messages', [
        ['q=a', 'q'],
        [`q=${chars(201)}`, 'q'],
        ['q=a&q=b', 'q'],
        ['q=durable&limit=0', 'limit'],
        ['q=durable&limit=51', 'limit'],
        ['q=durable&cursor=not-a-cursor', 'cursor'],
        ['q=durable&conversationId=x', 'conversationId'],
      ]),
    ]),
  ];
}

function buildCases(): Case[] {
  return [
    ...on(ROUTES.register, [
      ...badShapes(),
      {
        name: 'an empty object',
        body: json({}),
        status: 400,
        code: 'validation_failed',
        fields: ['email', 'password', 'displayName'],
      },
      {
        name: 'every field null',
        body: json({ email: null, password: null, displayName: null }),
        status: 400,
        code: 'validation_failed',
        fields: ['email', 'password', 'displayName'],
      },
      {
        name: 'no displayName',
        body: () => json({ email: freshEmail('nodn'), password: STRONG_PASSWORD }),
        status: 400,
        code: 'validation_failed',
        fields: ['displayName'],
      },
      {
        name: 'wrong types',
        body: json({ email: 42, password: 123456789012345, displayName: { first: 'Ada' } }),
        status: 400,
        code: 'validation_failed',
        fields: ['email', 'password', 'displayName'],
      },
      {
        name: 'an email in an array',
        body: () => json({ email: [freshEmail('arr')], password: STRONG_PASSWORD, displayName: 'Ada' }),
        status: 400,
        code: 'validation_failed',
        fields: ['email'],
      },
      {
        name: 'an unknown field (role: admin)',
        body: () => json({ email: freshEmail('role'), password: STRONG_PASSWORD, displayName: 'Ada', role: 'admin' }),
        status: 400,
        code: 'validation_failed',
        fields: ['role'],
      },
      {
        // Regression: class-transformer silently drops __proto__, so the unknown field was not rejected and the
        // account was created.
        name: 'a __proto__ field',
        body: () => ({
          raw: `{"email":"${freshEmail('proto')}","password":"${STRONG_PASSWORD}","displayName":"Ada","__proto__":{"role":"admin"}}`,
        }),
        status: 400,
        code: 'validation_failed',
        fields: ['__proto__'],
      },
      {
        name: 'not an email address',
        body: json({ email: 'not-an-email', password: STRONG_PASSWORD, displayName: 'Ada' }),
        status: 400,
        code: 'validation_failed',
        fields: ['email'],
      },
      {
        name: 'an empty email',
        body: json({ email: '   ', password: STRONG_PASSWORD, displayName: 'Ada' }),
        status: 400,
        code: 'validation_failed',
        fields: ['email'],
      },
      {
        name: 'a 255-character email',
        body: json({ email: emailOf(255), password: STRONG_PASSWORD, displayName: 'Ada' }),
        status: 400,
        code: 'validation_failed',
        fields: ['email'],
      },
      {
        name: 'a 1 025-character password',
        body: () => json({ email: freshEmail('longpw'), password: chars(1025, 'x'), displayName: 'Ada' }),
        status: 400,
        code: 'validation_failed',
        fields: ['password'],
      },
      {
        name: 'an 11-character password',
        body: () => json({ email: freshEmail('shortpw'), password: 'abcdefghijk', displayName: 'Ada' }),
        status: 400,
        code: 'validation_failed',
        fields: ['password'],
      },
      {
        name: 'a common password (password1234)',
        body: () => json({ email: freshEmail('common'), password: 'password1234', displayName: 'Ada' }),
        status: 400,
        code: 'validation_failed',
        fields: ['password'],
      },
      {
        name: 'a common password in other case (PassWord1234)',
        body: () => json({ email: freshEmail('common2'), password: 'PassWord1234', displayName: 'Ada' }),
        status: 400,
        code: 'validation_failed',
        fields: ['password'],
      },
      {
        name: 'an empty password',
        body: () => json({ email: freshEmail('emptypw'), password: '', displayName: 'Ada' }),
        status: 400,
        code: 'validation_failed',
        fields: ['password'],
      },
      {
        name: 'a white-space displayName',
        body: () => json({ email: freshEmail('wsdn'), password: STRONG_PASSWORD, displayName: ' \t\n ' }),
        status: 400,
        code: 'validation_failed',
        fields: ['displayName'],
      },
      {
        name: 'a 101-character displayName',
        body: () => json({ email: freshEmail('longdn'), password: STRONG_PASSWORD, displayName: chars(101) }),
        status: 400,
        code: 'validation_failed',
        fields: ['displayName'],
      },
      {
        // Regression: class-validator's MaxLength does not count U+FE0F after a character, MySQL's VARCHAR(100) does:
        // 200 code points passed validation, the INSERT failed (ER_DATA_TOO_LONG) and the client got a 500.
        name: 'a displayName of 100 characters each followed by U+FE0F',
        body: () => json({ email: freshEmail('fe0f'), password: STRONG_PASSWORD, displayName: 'a\uFE0F'.repeat(100) }),
        status: 400,
        code: 'validation_failed',
        fields: ['displayName'],
      },
      {
        name: 'an email that is taken',
        body: (c) => json({ email: c.email, password: STRONG_PASSWORD, displayName: 'Impostor' }),
        status: 409,
        code: 'email_taken',
      },
      {
        name: 'an email that is taken, in other case with spaces around',
        body: (c) => json({ email: `  ${c.email.toUpperCase()} `, password: STRONG_PASSWORD, displayName: 'Impostor' }),
        status: 409,
        code: 'email_taken',
      },
    ]),

    ...on(ROUTES.login, [
      ...badShapes(),
      {
        name: 'an empty object',
        body: json({}),
        status: 400,
        code: 'validation_failed',
        fields: ['email', 'password'],
      },
      {
        name: 'wrong types',
        body: json({ email: 1, password: true }),
        status: 400,
        code: 'validation_failed',
        fields: ['email', 'password'],
      },
      {
        name: 'an unknown field',
        body: (c) => json({ email: c.email, password: c.password, rememberMe: true }),
        status: 400,
        code: 'validation_failed',
        fields: ['rememberMe'],
      },
      {
        name: 'a 2-character email',
        body: json({ email: 'ab', password: 'x' }),
        status: 400,
        code: 'validation_failed',
        fields: ['email'],
      },
      {
        name: 'a 255-character email',
        body: json({ email: emailOf(255), password: 'x' }),
        status: 400,
        code: 'validation_failed',
        fields: ['email'],
      },
      {
        name: 'an empty password',
        body: (c) => json({ email: c.email, password: '' }),
        status: 400,
        code: 'validation_failed',
        fields: ['password'],
      },
      {
        name: 'a 1 025-character password',
        body: (c) => json({ email: c.email, password: chars(1025) }),
        status: 400,
        code: 'validation_failed',
        fields: ['password'],
      },
      {
        name: 'a malformed otp',
        body: (c) => json({ email: c.email, password: c.password, otp: 'abc' }),
        status: 400,
        code: 'validation_failed',
        fields: ['otp'],
      },
      {
        name: 'a numeric otp',
        body: (c) => json({ email: c.email, password: c.password, otp: 123456 }),
        status: 400,
        code: 'validation_failed',
        fields: ['otp'],
      },
      {
        name: 'an unknown email',
        body: () => json({ email: freshEmail('nobody'), password: STRONG_PASSWORD }),
        status: 401,
        code: 'invalid_credentials',
        audit: [{ action: 'auth.login_failed', reason: 'unknown_email' }],
      },
      {
        name: 'a wrong password',
        body: (c) => json({ email: c.email, password: `${c.password}!` }),
        status: 401,
        code: 'invalid_credentials',
        audit: [{ action: 'auth.login_failed', reason: 'wrong_password' }],
      },
      {
        name: 'a wrong password, email in other case',
        body: (c) => json({ email: ` ${c.email.toUpperCase()}`, password: 'not the password' }),
        status: 401,
        code: 'invalid_credentials',
        audit: [{ action: 'auth.login_failed', reason: 'wrong_password' }],
      },
      {
        // Regression: behind `trust proxy: loopback` req.ip is whatever X-Forwarded-For says; the audit row's
        // VARCHAR(64) ip column refused it and the failed login became a 500.
        name: 'a failed login with a garbage X-Forwarded-For',
        headers: () => ({ 'X-Forwarded-For': chars(100, 'x') }),
        body: () => json({ email: freshEmail('xff'), password: STRONG_PASSWORD }),
        status: 401,
        code: 'invalid_credentials',
        audit: [{ action: 'auth.login_failed', reason: 'unknown_email' }],
      },
    ]),

    ...on(ROUTES.refresh, [
      ...badShapes(),
      { name: 'an empty object', body: json({}), status: 400, code: 'validation_failed', fields: ['refreshToken'] },
      {
        name: 'a number',
        body: json({ refreshToken: 1234567890123456 }),
        status: 400,
        code: 'validation_failed',
        fields: ['refreshToken'],
      },
      {
        name: 'a short token',
        body: json({ refreshToken: 'gcr_short' }),
        status: 400,
        code: 'validation_failed',
        fields: ['refreshToken'],
      },
      {
        name: 'a 513-character token',
        body: json({ refreshToken: chars(513) }),
        status: 400,
        code: 'validation_failed',
        fields: ['refreshToken'],
      },
      {
        name: 'an unknown field',
        body: json({ refreshToken: `gcr_${chars(40)}`, sessionId: MISSING_ID }),
        status: 400,
        code: 'validation_failed',
        fields: ['sessionId'],
      },
      {
        name: 'a token nobody was given',
        body: json({ refreshToken: `gcr_${chars(43, 'Z')}` }),
        status: 401,
        code: 'unauthorized',
      },
    ]),

    // Logout takes no body, but a body it cannot parse is still refused before it acts (and the session survives).
    ...on(ROUTES.logout, [...badTokens(), ...unparsableBodies()]),

    ...on(ROUTES.me, badTokens()),

    ...on(ROUTES.changePassword, [
      ...badShapes(),
      ...badTokens(),
      {
        name: 'an empty object',
        body: json({}),
        status: 400,
        code: 'validation_failed',
        fields: ['currentPassword', 'newPassword'],
      },
      {
        name: 'wrong types',
        body: json({ currentPassword: 42, newPassword: ['x'] }),
        status: 400,
        code: 'validation_failed',
        fields: ['currentPassword', 'newPassword'],
      },
      {
        name: 'a common new password',
        body: (c) => json({ currentPassword: c.password, newPassword: 'password1234' }),
        status: 400,
        code: 'validation_failed',
        fields: ['newPassword'],
      },
      {
        name: 'a 1 025-character new password',
        body: (c) => json({ currentPassword: c.password, newPassword: chars(1025) }),
        status: 400,
        code: 'validation_failed',
        fields: ['newPassword'],
      },
      {
        name: 'an unknown field',
        body: (c) => json({ currentPassword: c.password, newPassword: STRONG_PASSWORD, userId: c.userId }),
        status: 400,
        code: 'validation_failed',
        fields: ['userId'],
      },
    ]),

    // Setup takes no body; a body it cannot parse is refused before it acts (no pending secret is stored).
    ...on(ROUTES.setupTwoFactor, [...badTokens(), ...unparsableBodies()]),

    ...on(ROUTES.enableTwoFactor, [
      ...badShapes(),
      ...badTokens(),
      { name: 'an empty object', body: json({}), status: 400, code: 'validation_failed', fields: ['otp'] },
      { name: 'a numeric otp', body: json({ otp: 123456 }), status: 400, code: 'validation_failed', fields: ['otp'] },
      { name: 'a null otp', body: json({ otp: null }), status: 400, code: 'validation_failed', fields: ['otp'] },
      { name: 'a 5-digit otp', body: json({ otp: '12345' }), status: 400, code: 'validation_failed', fields: ['otp'] },
      {
        name: 'a recovery code instead of a TOTP code',
        body: json({ otp: 'abcd-efgh-jkmn' }),
        status: 400,
        code: 'validation_failed',
        fields: ['otp'],
      },
      {
        name: 'an unknown field',
        body: json({ otp: '123456', secret: 'JBSWY3DPEHPK3PXP' }),
        status: 400,
        code: 'validation_failed',
        fields: ['secret'],
      },
      // The user never called setup: there is nothing to enable.
      { name: 'a code without a pending secret', body: json({ otp: '123456' }), status: 409, code: 'conflict' },
    ]),

    ...on(ROUTES.disableTwoFactor, [
      ...badShapes(),
      ...badTokens(),
      {
        name: 'an empty object',
        body: json({}),
        status: 400,
        code: 'validation_failed',
        fields: ['password', 'otp'],
      },
      {
        name: 'wrong types',
        body: json({ password: 42, otp: 123456 }),
        status: 400,
        code: 'validation_failed',
        fields: ['password', 'otp'],
      },
      {
        name: 'a garbage otp',
        body: (c) => json({ password: c.password, otp: "' OR 1=1 --" }),
        status: 400,
        code: 'validation_failed',
        fields: ['otp'],
      },
      {
        name: 'a 33-character otp',
        body: (c) => json({ password: c.password, otp: chars(33, '7') }),
        status: 400,
        code: 'validation_failed',
        fields: ['otp'],
      },
      {
        name: 'an unknown field',
        body: (c) => json({ password: c.password, otp: '123456', userId: c.userId }),
        status: 400,
        code: 'validation_failed',
        fields: ['userId'],
      },
      // Two-factor authentication is off for this user: nothing to disable, and no password is checked.
      {
        name: 'when two-factor authentication is off',
        body: (c) => json({ password: c.password, otp: '123456' }),
        status: 409,
        code: 'conflict',
      },
    ]),

    ...on(ROUTES.unlockUser, [...badTokens(), ...badIds(ROUTES.unlockUser, 'id')]),

    ...on(ROUTES.createConversation, [
      ...badShapes(),
      ...badTokens(),
      {
        name: 'a model no provider serves',
        body: json({ model: 'no-such-model' }),
        status: 400,
        code: 'validation_failed',
        fields: ['model'],
      },
      {
        name: 'no token and a bad body (authentication comes first)',
        auth: 'none',
        body: json({ title: 42 }),
        status: 401,
        code: 'unauthorized',
      },
      {
        name: 'an unknown field (ownerId)',
        body: (c) => json({ title: 'mine now', ownerId: c.userId }),
        status: 400,
        code: 'validation_failed',
        fields: ['ownerId'],
      },
      {
        name: 'wrong types',
        body: json({ title: 42, model: ['gpt'], systemPrompt: { text: 'x' } }),
        status: 400,
        code: 'validation_failed',
        fields: ['title', 'model', 'systemPrompt'],
      },
      { name: 'an empty title', body: json({ title: '' }), status: 400, code: 'validation_failed', fields: ['title'] },
      {
        name: 'a 201-character title',
        body: json({ title: chars(201) }),
        status: 400,
        code: 'validation_failed',
        fields: ['title'],
      },
      {
        // Regression: the same U+FE0F miscount as displayName, against VARCHAR(200).
        name: 'a title of 200 characters each followed by U+FE0F',
        body: json({ title: 'a\uFE0F'.repeat(200) }),
        status: 400,
        code: 'validation_failed',
        fields: ['title'],
      },
      {
        name: 'a model name with spaces',
        body: json({ model: 'gpt 4' }),
        status: 400,
        code: 'validation_failed',
        fields: ['model'],
      },
      {
        name: 'a 101-character model name',
        body: json({ model: chars(101) }),
        status: 400,
        code: 'validation_failed',
        fields: ['model'],
      },
      {
        name: 'a 20 001-character systemPrompt',
        body: json({ systemPrompt: chars(20001) }),
        status: 400,
        code: 'validation_failed',
        fields: ['systemPrompt'],
      },
      {
        name: 'tools that are not tool names',
        body: json({ tools: ['Bad-Name', 7] }),
        status: 400,
        code: 'validation_failed',
        fields: ['tools'],
      },
      {
        name: 'a tool nobody offers',
        body: json({ tools: ['no_such_tool'] }),
        status: 400,
        code: 'validation_failed',
        fields: ['tools'],
      },
    ]),

    ...on(ROUTES.listConversations, [
      ...badTokens(),
      ...(
        [
          ['limit=0', 'limit'],
          ['limit=101', 'limit'],
          ['limit=-1', 'limit'],
          ['limit=abc', 'limit'],
          ['limit=1.5', 'limit'],
          ['limit=', 'limit'],
          ['limit=1&limit=2', 'limit'],
          ['cursor=not-a-cursor', 'cursor'],
          [`cursor=${Buffer.from('{"at":"2020-01-01"}').toString('base64url')}`, 'cursor'],
          [`cursor=${Buffer.from('["yesterday","x"]').toString('base64url')}`, 'cursor'],
          [`cursor=${chars(513)}`, 'cursor'],
          ['cursor=a&cursor=b', 'cursor'],
          ['sort=title', 'sort'],
        ] as const
      ).map(([query, field]): CaseRow => ({
        name: `?${query.length > 40 ? `${query.slice(0, 40)}…` : query}`,
        path: `${API}/conversations?${query}`,
        status: 400,
        code: 'validation_failed',
        fields: [field],
      })),
    ]),

    ...on(ROUTES.getConversation, [...badTokens(), ...badIds(ROUTES.getConversation, 'id')]),
    ...on(ROUTES.deleteConversation, [...badTokens(), ...badIds(ROUTES.deleteConversation, 'id')]),

    ...on(ROUTES.sendMessage, [
      ...badShapes(),
      ...badTokens(),
      ...badIds(ROUTES.sendMessage, 'id').map((row) => ({ ...row, body: json({ content: 'hello' }) })),
      { name: 'an empty object', body: json({}), status: 400, code: 'validation_failed', fields: ['content'] },
      {
        name: 'webSearch that is not a boolean',
        body: json({ content: 'hi', webSearch: 'yes' }),
        status: 400,
        code: 'validation_failed',
        fields: ['webSearch'],
      },
      {
        name: 'tools that is not an array of names',
        body: json({ content: 'hi', tools: 'calculator' }),
        status: 400,
        code: 'validation_failed',
        fields: ['tools'],
      },
      {
        name: 'a tool this server does not offer',
        body: json({ content: 'hi', tools: ['rm_rf'] }),
        status: 400,
        code: 'validation_failed',
        fields: ['tools'],
      },
      {
        name: 'fileIds that is not an array',
        body: json({ content: 'hi', fileIds: MISSING_ID }),
        status: 400,
        code: 'validation_failed',
        fields: ['fileIds'],
      },
      {
        name: 'fileIds with something that is not a UUID',
        body: json({ content: 'hi', fileIds: ['../etc/passwd'] }),
        status: 400,
        code: 'validation_failed',
        fields: ['fileIds'],
      },
      {
        name: 'more than 50 fileIds',
        body: json({ content: 'hi', fileIds: Array.from({ length: 51 }, () => MISSING_ID) }),
        status: 400,
        code: 'validation_failed',
        fields: ['fileIds'],
      },
      {
        name: 'fileIds naming a file the caller does not have',
        body: json({ content: 'hi', fileIds: [MISSING_ID] }),
        status: 400,
        code: 'validation_failed',
        fields: ['fileIds'],
      },
      {
        name: 'an empty content',
        body: json({ content: '' }),
        status: 400,
        code: 'validation_failed',
        fields: ['content'],
      },
      {
        name: 'white-space content',
        body: json({ content: ' \t\r\n ' }),
        status: 400,
        code: 'validation_failed',
        fields: ['content'],
      },
      {
        name: 'Unicode-space content (NBSP, em space, ideographic space)',
        body: json({ content: '\u00a0\u2003\u3000' }),
        status: 400,
        code: 'validation_failed',
        fields: ['content'],
      },
      {
        name: 'null content',
        body: json({ content: null }),
        status: 400,
        code: 'validation_failed',
        fields: ['content'],
      },
      {
        name: 'numeric content',
        body: json({ content: 42 }),
        status: 400,
        code: 'validation_failed',
        fields: ['content'],
      },
      {
        name: 'content in an array',
        body: json({ content: ['hi'] }),
        status: 400,
        code: 'validation_failed',
        fields: ['content'],
      },
      {
        name: 'a 100 001-character content',
        body: json({ content: chars(100_001) }),
        status: 400,
        code: 'validation_failed',
        fields: ['content'],
      },
      {
        name: 'an unknown field (role: system)',
        body: json({ content: 'hello', role: 'system' }),
        status: 400,
        code: 'validation_failed',
        fields: ['role'],
      },
      {
        name: 'a parentMessageId that is not a UUID',
        body: json({ content: 'hello', parentMessageId: 'the-last-one' }),
        status: 400,
        code: 'validation_failed',
        fields: ['parentMessageId'],
      },
      {
        name: 'a parentMessageId nobody has',
        body: json({ content: 'hello', parentMessageId: MISSING_ID }),
        status: 404,
        code: 'not_found',
      },
      {
        name: 'a model name with a space',
        body: json({ content: 'hello', model: 'gpt 4' }),
        status: 400,
        code: 'validation_failed',
        fields: ['model'],
      },
      {
        name: 'a model no provider serves',
        body: json({ content: 'hello', model: 'no-such-model' }),
        status: 400,
        code: 'validation_failed',
        fields: ['model'],
      },
      ...(
        [
          ['empty', ''],
          ['256 characters', chars(256, 'k')],
          ['with a space', 'two words'],
          ['non-ASCII', 'cl\u00e9'],
        ] as const
      ).map(([what, key]): CaseRow => ({
        name: `an Idempotency-Key ${what}`,
        headers: () => ({ 'Idempotency-Key': key }),
        body: json({ content: 'hello' }),
        status: 400,
        code: 'validation_failed',
        fields: ['Idempotency-Key'],
      })),
      {
        // Streaming answers (Accept: text/event-stream) validate the body first, like every other form.
        name: 'Accept: text/event-stream with an empty content',
        headers: () => ({ Accept: 'text/event-stream' }),
        body: json({ content: '' }),
        status: 400,
        code: 'validation_failed',
        fields: ['content'],
      },
    ]),

    ...on(ROUTES.getTurn, [...badTokens(), ...badIds(ROUTES.getTurn, 'turnId')]),

    ...on(ROUTES.cancelTurn, [
      ...badTokens(),
      ...badIds(ROUTES.getTurn, 'turnId').map((row) => ({
        ...row,
        path: (c: Ctx) => `${(row.path as (x: Ctx) => string)(c)}/cancel`,
      })),
      { name: 'a turn that already completed', status: 409, code: 'conflict' },
    ]),

    ...on(ROUTES.listModels, badTokens()),
    ...on(ROUTES.listTools, badTokens()),
    ...on(ROUTES.addMcpServer, [
      ...badShapes(),
      ...badTokens(),
      { name: 'an empty object', body: json({}), status: 400, code: 'validation_failed', fields: ['name', 'url'] },
      {
        name: 'a name with capitals or a double underscore, a URL that is not http(s)',
        body: json({ name: 'My__Server', url: 'file:///etc/passwd' }),
        status: 400,
        code: 'validation_failed',
        fields: ['name', 'url'],
      },
      {
        name: 'a loopback or private address (SSRF)',
        body: json({ name: 'inside', url: 'http://127.0.0.1:9000/mcp' }),
        status: 400,
        code: 'validation_failed',
        fields: ['url'],
      },
      {
        name: 'the cloud metadata address',
        body: json({ name: 'meta', url: 'http://169.254.169.254/latest' }),
        status: 400,
        code: 'validation_failed',
        fields: ['url'],
      },
      {
        name: 'credentials in the URL',
        body: json({ name: 'creds', url: 'https://user:secret@mcp.example.com/' }),
        status: 400,
        code: 'validation_failed',
        fields: ['url'],
      },
      {
        name: 'headers that are not strings',
        body: json({ name: 'hdrs', url: 'https://mcp.example.com/', headers: { Authorization: 42 } }),
        status: 400,
        code: 'validation_failed',
        fields: ['headers'],
      },
      {
        name: 'a header value with a line break (header injection)',
        body: json({ name: 'crlf', url: 'https://mcp.example.com/', headers: { 'X-A': 'a\r\nX-B: b' } }),
        status: 400,
        code: 'validation_failed',
        fields: ['headers'],
      },
    ]),
    ...on(ROUTES.listMcpServers, badTokens()),
    ...on(ROUTES.removeMcpServer, [...badTokens(), ...badIds(ROUTES.removeMcpServer, 'id')]),
    ...on(ROUTES.startMcpOAuth, [
      ...badTokens(),
      ...badIds({ method: 'post', path: `${API}/mcp-servers/${MISSING_ID}` }, 'id').map((row) => ({
        ...row,
        path: (c: Ctx) => `${(row.path as (c: Ctx) => string)(c)}/oauth`,
      })),
      { name: 'a server nobody has', status: 404, code: 'not_found' },
    ]),
    ...on(ROUTES.completeMcpOAuth, [
      ...badShapes(),
      ...badTokens(),
      { name: 'an empty object', body: json({}), status: 400, code: 'validation_failed', fields: ['state', 'code'] },
      {
        name: 'a state too short, an empty code',
        body: json({ state: 'abc', code: '' }),
        status: 400,
        code: 'validation_failed',
        fields: ['state', 'code'],
      },
      {
        name: 'a state with characters no sign-in makes',
        body: json({ state: `${chars(30, 'a')}' OR 1=1`, code: 'x' }),
        status: 400,
        code: 'validation_failed',
        fields: ['state'],
      },
      {
        name: 'a well-formed state no sign-in started',
        body: json({ state: chars(43, 'a'), code: 'some-code' }),
        status: 400,
        code: 'validation_failed',
        fields: ['state'],
      },
    ]),
    ...[
      [ROUTES.approveToolCall, 'approve'],
      [ROUTES.denyToolCall, 'deny'],
    ].flatMap(([route, decision]) =>
      on(route as RouteSpec, [
        ...badTokens(),
        ...badIds(ROUTES.getTurn, 'turnId').map((row) => ({
          ...row,
          path: (c: Ctx) => `${(row.path as (x: Ctx) => string)(c)}/tool-calls/call_1/${decision as string}`,
        })),
        {
          name: 'a call id that is not one',
          path: (c: Ctx) => `${API}/turns/${c.turnId}/tool-calls/${encodeURIComponent('../x y')}/${decision as string}`,
          status: 400,
          code: 'validation_failed',
          fields: ['callId'],
        },
        { name: 'a turn that already completed', status: 409, code: 'conflict' },
      ]),
    ),

    // The OpenAI-compatible API: problem+json like every route (with OpenAI's `error` object beside it).
    ...on(ROUTES.openAiModels, badTokens()),
    ...on(ROUTES.openAiCompletions, [
      ...badShapes(),
      ...badTokens(),
      {
        name: 'an empty object',
        body: json({}),
        status: 400,
        code: 'validation_failed',
        fields: ['messages', 'model'],
      },
      {
        name: 'no messages',
        body: json({ model: 'fake-model', messages: [] }),
        status: 400,
        code: 'validation_failed',
        fields: ['messages'],
      },
      {
        name: 'a last message that is not the user’s',
        body: json({
          model: 'fake-model',
          messages: [
            { role: 'user', content: 'hi' },
            { role: 'assistant', content: 'yo' },
          ],
        }),
        status: 400,
        code: 'validation_failed',
        fields: ['messages.1'],
      },
      {
        name: 'a tool message',
        body: json({ model: 'fake-model', messages: [{ role: 'tool', content: 'x' }] }),
        status: 400,
        code: 'validation_failed',
        fields: ['messages.0.role'],
      },
      {
        name: 'an image part',
        body: json({
          model: 'fake-model',
          messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }],
        }),
        status: 400,
        code: 'validation_failed',
        fields: ['messages.0.content'],
      },
      {
        name: 'a model nobody serves',
        body: json({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
        status: 400,
        code: 'validation_failed',
        fields: ['model'],
      },
      {
        name: 'more than one choice',
        body: json({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], n: 2 }),
        status: 400,
        code: 'validation_failed',
        fields: ['n'],
      },
      {
        name: 'a conversation nobody has',
        body: json({
          model: 'fake-model',
          messages: [{ role: 'user', content: 'hi' }],
          gigachat: { conversationId: MISSING_ID },
        }),
        status: 404,
        code: 'not_found',
      },
    ]),

    ...on(ROUTES.turnEvents, [
      ...badTokens(),
      ...badIds(ROUTES.getTurn, 'turnId').map((row) => ({
        ...row,
        path: (c: Ctx) => `${(row.path as (x: Ctx) => string)(c)}/events`,
      })),
      {
        name: 'a Last-Event-ID that is not a stream id',
        headers: () => ({ 'Last-Event-ID': 'the-last-one' }),
        status: 400,
        code: 'validation_failed',
        fields: ['Last-Event-ID'],
      },
      {
        name: 'a lastEventId query that is not a stream id',
        path: (c: Ctx) => `${API}/turns/${c.turnId}/events?lastEventId=${encodeURIComponent("1' OR 1=1")}`,
        status: 400,
        code: 'validation_failed',
        fields: ['lastEventId'],
      },
    ]),

    // The signed-up user owns ctx.conversationId: what is refused here is the input.
    ...on(ROUTES.shareConversation, [
      ...badShapes(),
      ...badTokens(),
      ...badIds(ROUTES.getConversation, 'id').map((row) => ({
        ...row,
        path: (c: Ctx) => `${(row.path as (x: Ctx) => string)(c)}/shares`,
        body: json({ email: 'someone@example.com', permission: 'read' }),
      })),
      {
        name: 'an empty object',
        body: json({}),
        status: 400,
        code: 'validation_failed',
        fields: ['email', 'permission'],
      },
      {
        name: 'not an email address',
        body: json({ email: 'not-an-email', permission: 'read' }),
        status: 400,
        code: 'validation_failed',
        fields: ['email'],
      },
      {
        name: 'a 255-character email',
        body: json({ email: emailOf(255), permission: 'read' }),
        status: 400,
        code: 'validation_failed',
        fields: ['email'],
      },
      {
        name: 'an unknown permission (admin)',
        body: json({ email: 'someone@example.com', permission: 'admin' }),
        status: 400,
        code: 'validation_failed',
        fields: ['permission'],
      },
      {
        name: 'wrong types',
        body: json({ email: ['someone@example.com'], permission: 1 }),
        status: 400,
        code: 'validation_failed',
        fields: ['email', 'permission'],
      },
      {
        name: 'an unknown field (userId)',
        body: (c) => json({ email: 'someone@example.com', permission: 'read', userId: c.userId }),
        status: 400,
        code: 'validation_failed',
        fields: ['userId'],
      },
      {
        name: 'sharing with yourself',
        body: (c) => json({ email: c.email, permission: 'write' }),
        status: 400,
        code: 'validation_failed',
        fields: ['email'],
      },
      {
        name: 'an email nobody has',
        body: () => json({ email: freshEmail('nobody'), permission: 'read' }),
        status: 404,
        code: 'not_found',
      },
    ]),
    ...on(ROUTES.listShares, [
      ...badTokens(),
      ...badIds(ROUTES.getConversation, 'id').map((row) => ({
        ...row,
        path: (c: Ctx) => `${(row.path as (x: Ctx) => string)(c)}/shares`,
      })),
    ]),
    ...on(ROUTES.revokeShare, [
      ...badTokens(),
      ...badIds(ROUTES.revokeShare, 'userId'),
      ...badIds(ROUTES.getConversation, 'id').map((row) => ({
        ...row,
        path: (c: Ctx) => `${(row.path as (x: Ctx) => string)(c)}/shares/${MISSING_ID}`,
      })),
    ]),

    ...conversationFeatureCases(),
    ...fileCases(),
    ...replayCases(),

    // The signed-up user is the installation's first account, so an admin: what is refused here is the input.
    ...on(ROUTES.createToken, [
      ...badShapes(),
      ...badTokens(),
      { name: 'an empty object', body: json({}), status: 400, code: 'validation_failed', fields: ['name', 'scopes'] },
      {
        name: 'wrong types',
        body: json({ name: 42, scopes: 'chat:read', expiresInDays: '30' }),
        status: 400,
        code: 'validation_failed',
        fields: ['name', 'scopes', 'expiresInDays'],
      },
      {
        name: 'no scopes',
        body: json({ name: 'bot', scopes: [] }),
        status: 400,
        code: 'validation_failed',
        fields: ['scopes'],
      },
      {
        name: 'an unknown scope',
        body: json({ name: 'bot', scopes: ['chat:read', 'root'] }),
        status: 400,
        code: 'validation_failed',
        fields: ['scopes'],
      },
      {
        name: 'a scope twice',
        body: json({ name: 'bot', scopes: ['chat:read', 'chat:read'] }),
        status: 400,
        code: 'validation_failed',
        fields: ['scopes'],
      },
      {
        name: 'a white-space name',
        body: json({ name: ' \t ', scopes: ['chat:read'] }),
        status: 400,
        code: 'validation_failed',
        fields: ['name'],
      },
      {
        name: 'a 101-character name',
        body: json({ name: chars(101), scopes: ['chat:read'] }),
        status: 400,
        code: 'validation_failed',
        fields: ['name'],
      },
      ...([0, -1, 1.5, 3651, 1e308] as const).map((days): CaseRow => ({
        name: `expiresInDays ${days}`,
        body: json({ name: 'bot', scopes: ['chat:read'], expiresInDays: days }),
        status: 400,
        code: 'validation_failed',
        fields: ['expiresInDays'],
      })),
      {
        name: 'an unknown field (userId)',
        body: (c) => json({ name: 'bot', scopes: ['chat:read'], userId: c.userId }),
        status: 400,
        code: 'validation_failed',
        fields: ['userId'],
      },
    ]),
    ...on(ROUTES.listTokens, badTokens()),
    ...on(ROUTES.getToken, [...badTokens(), ...badIds(ROUTES.getToken, 'id')]),
    ...on(ROUTES.revokeToken, [...badTokens(), ...badIds(ROUTES.revokeToken, 'id')]),

    ...on(ROUTES.listUsers, [
      ...badTokens(),
      ...(
        [
          ['role=root', 'role'],
          ['locked=yes', 'locked'],
          ['locked=true&locked=false', 'locked'],
          ['limit=0', 'limit'],
          ['limit=101', 'limit'],
          ['cursor=not-a-cursor', 'cursor'],
          ['email=', 'email'],
          [`email=${chars(255)}`, 'email'],
          ['sort=email', 'sort'],
        ] as const
      ).map(([query, field]): CaseRow => ({
        name: `?${query.length > 40 ? `${query.slice(0, 40)}…` : query}`,
        path: `${API}/admin/users?${query}`,
        status: 400,
        code: 'validation_failed',
        fields: [field],
      })),
    ]),

    ...on(ROUTES.updateUser, [
      ...badShapes(),
      ...badTokens(),
      ...badIds(ROUTES.updateUser, 'id').map((row) => ({ ...row, body: json({ role: 'user' }) })),
      { name: 'an empty object', body: json({}), status: 400, code: 'validation_failed', fields: ['(body)'] },
      {
        name: 'wrong types',
        body: json({ role: 1, disabled: 'yes' }),
        status: 400,
        code: 'validation_failed',
        fields: ['role', 'disabled'],
      },
      {
        name: 'an unknown role',
        body: json({ role: 'root' }),
        status: 400,
        code: 'validation_failed',
        fields: ['role'],
      },
      {
        name: 'an unknown field (email)',
        body: json({ disabled: false, email: 'x@example.com' }),
        status: 400,
        code: 'validation_failed',
        fields: ['email'],
      },
      { name: 'demoting yourself', body: json({ role: 'user' }), status: 409, code: 'conflict' },
      { name: 'disabling yourself', body: json({ disabled: true }), status: 409, code: 'conflict' },
    ]),

    ...on(ROUTES.listAudit, [
      ...badTokens(),
      ...(
        [
          ['actor=abc', 'actor'],
          ['action=DROP%20TABLE', 'action'],
          [`target=${chars(65)}`, 'target'],
          ['from=yesterday', 'from'],
          ['to=2024-13-01T00:00:00Z', 'to'],
          ['from=a&from=b', 'from'],
          ['cursor=not-a-cursor', 'cursor'],
          ['limit=0', 'limit'],
          ['limit=101', 'limit'],
          ['who=me', 'who'],
        ] as const
      ).map(([query, field]): CaseRow => ({
        name: `?${query.length > 40 ? `${query.slice(0, 40)}…` : query}`,
        path: `${API}/admin/audit?${query}`,
        status: 400,
        code: 'validation_failed',
        fields: [field],
      })),
    ]),

    // The Temporal codec server (admin only): the UI's payload shape, or a 400 naming what is wrong.
    ...[ROUTES.openCodecSession, ROUTES.closeCodecSession].flatMap((route) =>
      on(route, [
        ...badTokens(),
        {
          name: 'the codec cookie in place of a bearer token (it opens encode and decode only)',
          auth: 'none',
          headers: (c) => ({ Cookie: `gigachat_codec=${c.accessToken}` }),
          status: 401,
          code: 'unauthorized',
          responseHeaders: { 'www-authenticate': /^Bearer/ },
        },
        { name: 'a user who is not an admin', auth: (c) => c.chatAuth, status: 403, code: 'forbidden' },
      ]),
    ),

    ...[ROUTES.codecEncode, ROUTES.codecDecode].flatMap((route) =>
      on(route, [
        ...badTokens(),
        ...badShapes(),
        { name: 'no payloads', body: json({}), status: 400, code: 'validation_failed', fields: ['payloads'] },
        {
          name: 'payloads not a list',
          body: json({ payloads: 'x' }),
          status: 400,
          code: 'validation_failed',
          fields: ['payloads'],
        },
        {
          name: 'data that is not base64',
          body: json({ payloads: [{ data: 'not base64!' }] }),
          status: 400,
          code: 'validation_failed',
          fields: ['payloads.0.data'],
        },
        {
          name: 'a metadata value that is not a base64 string',
          body: json({ payloads: [{ metadata: { encoding: 7 } }] }),
          status: 400,
          code: 'validation_failed',
          fields: ['payloads.0.metadata'],
        },
        {
          name: 'an unknown field',
          body: json({ payloads: [], namespace: 'default' }),
          status: 400,
          code: 'validation_failed',
          fields: ['namespace'],
        },
        {
          name: 'over 1 000 payloads',
          body: json({ payloads: Array.from({ length: 1001 }, () => ({})) }),
          status: 400,
          code: 'validation_failed',
          fields: ['payloads'],
        },
      ]),
    ),

    // Routes that do not exist, and methods a route does not have.
    ...(
      [
        ['get', `${API}/nope`],
        ['get', `${API}`],
        ['get', '/api/v2/conversations'],
        ['get', '/conversations'],
        ['get', '/nope'],
        ['get', `${API}/auth/login`],
        ['post', `${API}/auth/me`],
        ['delete', `${API}/auth/register`],
        ['put', `${API}/conversations`],
        ['patch', `${API}/turns/${MISSING_ID}`],
        ['post', '/health/live'],
      ] as const
    ).map(([method, path]): Case => ({
      name: 'an unknown route or method',
      method,
      path,
      auth: 'user',
      status: 404,
      code: 'route_not_found',
    })),
  ];
}

/**
 * Served routes without a case here: the health probes take no input at all, and /metrics (a bearer token or the
 * loopback address) has its refusals in metrics.e2e-spec.ts, where the harness's scrape settings can be varied.
 */
const EXEMPT_FROM_BAD_INPUT: string[] = ['GET /health/live', 'GET /health/ready', 'GET /metrics'];

interface Snapshot {
  counts: Record<string, number>;
  checksums: Record<string, string>;
  redisKeys: string[];
  /** Workflows on the harness's task queues (Temporal's visibility): a refused request starts none. */
  workflows: number;
  /** Files in the harness's object store directory: a refused request stores none (and leaves no temp file). */
  objects: string[];
}

describe('bad input: problem+json 4xx, nothing written, never a 5xx', () => {
  let h: Harness;
  let small: Harness;
  let redis: Redis;
  const ctx = {} as Ctx;
  const logLines: { level: string; line: Record<string, unknown> }[] = [];
  const runId = uniqueSuffix();
  let seq = 0;

  beforeAll(async () => {
    [h, small] = await Promise.all([
      // Every file row counts against the per-user `files` limit; these cases test input, not the limit.
      startHarness('badinput', { env: { RATE_LIMIT_FILES_MAX: '10000' } }),
      startHarness('badinputsmall', { worker: false, fakeLlm: false, env: { API_BODY_LIMIT_BYTES: '2048' } }),
    ]);
    redis = new Redis(h.env.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
    captureLogs(h, logLines);

    const user = await signUp(h, 'ada');
    const login = await h.http.post(`${API}/auth/login`).send({ email: user.email, password: user.password });
    Object.assign(ctx, {
      auth: user.auth,
      accessToken: user.auth.slice('Bearer '.length),
      email: user.email,
      password: user.password,
      userId: user.userId,
    });
    // A second session, logged out: its still-unexpired access token must be refused.
    const revoked = `Bearer ${login.body.accessToken}`;
    expect((await h.http.post(`${API}/auth/logout`).set('Authorization', revoked)).status).toBe(204);
    ctx.revokedAuth = revoked;

    const { auth } = h.config;
    const codec = (over: Partial<ConstructorParameters<typeof AccessTokenCodec>[0]>) =>
      new AccessTokenCodec({
        keys: auth.tokenKeys,
        currentKeyId: auth.currentKeyId,
        issuer: auth.issuer,
        audience: auth.audience,
        // Longer than the whole suite may take on a busy machine: these tokens must fail for their one flaw, never
        // for having expired meanwhile.
        ttlSeconds: 3600,
        ...over,
      });
    const subject = { sub: ctx.userId, sid: MISSING_ID, role: 'user' };
    // Issued an hour ago to live a minute: expired however soon the cases run (issued an hour ago to live an hour, it
    // expired only as the first cases ran, and a quick run got 200s).
    ctx.expiredAuth = `Bearer ${(await codec({ ttlSeconds: 60, now: () => new Date(Date.now() - 3_600_000) }).issue(subject)).token}`;
    ctx.forgedAuth = `Bearer ${(await codec({ keys: [{ id: auth.currentKeyId, key: new Uint8Array(32).fill(9) }] }).issue(subject)).token}`;
    ctx.wrongAudienceAuth = `Bearer ${(await codec({ audience: 'someone-else' }).issue(subject)).token}`;

    const conversation = await h.http
      .post(`${API}/conversations`)
      .set('Authorization', ctx.auth)
      .send({ title: 'target' });
    expect(conversation.status).toBe(201);
    ctx.conversationId = conversation.body.id;
    const sent = await h.http
      .post(`${API}/conversations/${ctx.conversationId}/messages`)
      .set('Authorization', ctx.auth)
      .send({ content: 'a turn to look up' });
    expect(sent.status).toBe(200);
    ctx.turnId = sent.body.turnId;
    ctx.userMessageId = sent.body.userMessage.id;
    ctx.assistantMessageId = sent.body.assistantMessage.id;
    ctx.chatAuth = (await signUp(h, 'bea')).auth;
    await settleTurn(h, ctx.turnId);
    // A replay that has ended: the replay routes' rows read it, and no workflow writes anything while they run.
    const replay = await h.http
      .post(`${API}/replays`)
      .set('Authorization', ctx.auth)
      .send({ selection: { conversationIds: [ctx.conversationId] }, arms: [{ model: 'fake-model' }], mode: 'pinned' });
    expect(replay.status).toBe(202);
    ctx.replayId = replay.body.id;
    await waitFor(async () => {
      const res = await h.http.get(`${API}/replays/${ctx.replayId}`).set('Authorization', ctx.auth);
      return res.body.status === 'completed' ? true : undefined;
    });
  });

  afterAll(async () => {
    redis?.disconnect();
    await Promise.all([h?.close(), small?.close()]);
  });

  async function snapshot(on: Harness = h): Promise<Snapshot> {
    const found: { name: string }[] = await on.db.query(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name <> 'schema_migrations'",
    );
    const tables = [...new Set([...TABLES, ...found.map((row) => row.name)])].sort();
    const counts: Record<string, number> = {};
    for (const table of tables) counts[table] = await count(on, table);
    // A checksum of every table but the append-only audit log catches updates (e.g. a session revoked), not just inserts.
    const rows: { Table: string; Checksum: string | number | null }[] = await on.db.query(
      `CHECKSUM TABLE ${tables
        .filter((t) => t !== 'audit_log')
        .map((t) => `\`${t}\``)
        .join(', ')}`,
    );
    const checksums = Object.fromEntries(rows.map((row) => [row.Table.split('.').pop()!, String(row.Checksum)]));
    const redisKeys = (await redis.keys(`${on.env.REDIS_KEY_PREFIX}*`))
      .filter((key) => !RATE_LIMIT_KEYS.test(key))
      .sort();
    const { chatTaskQueue, ingestTaskQueue, replayTaskQueue } = on.config.temporal;
    const { count: workflows } = await on.temporal.workflow.count(
      [chatTaskQueue, ingestTaskQueue, replayTaskQueue].map((queue) => `TaskQueue = '${queue}'`).join(' OR '),
    );
    const entries = await readdir(on.config.files.localDir, { recursive: true, withFileTypes: true }).catch(() => []);
    const objects = entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
      .sort();
    return { counts, checksums, redisKeys, workflows, objects };
  }

  function requestIdFor(label: string): string {
    seq += 1;
    return `bad-${runId}-${seq}-${label.replace(/[^A-Za-z0-9]/g, '').slice(0, 40)}`;
  }

  function build(on: Harness, c: Case, requestId: string): Test {
    const path = typeof c.path === 'function' ? c.path(ctx) : c.path;
    let req = on.http[c.method](path).set('X-Request-Id', requestId).set('X-Forwarded-For', nextClientAddress());
    const auth = c.auth === 'user' ? ctx.auth : typeof c.auth === 'function' ? c.auth(ctx) : undefined;
    if (auth !== undefined) req = req.set('Authorization', auth);
    for (const [name, value] of Object.entries(c.headers?.(ctx) ?? {})) req = req.set(name, value);
    const body = typeof c.body === 'function' ? c.body(ctx) : c.body;
    if (body && 'multipart' in body) {
      for (const [name, value] of Object.entries(body.multipart)) req = req.field(name, value);
      for (const file of body.files ?? []) {
        const content = typeof file.content === 'string' ? Buffer.from(file.content) : file.content;
        req = req.attach(file.field, content, { filename: file.name, contentType: 'application/octet-stream' });
      }
    } else if (body) {
      for (const [name, value] of Object.entries(body.headers ?? {})) req = req.set(name, value);
      req = req.set('Content-Type', body.type ?? 'application/json').send(body.raw);
    }
    return req;
  }

  const cases = buildCases();

  it.each(
    cases.map(
      (c) =>
        [`${c.method.toUpperCase()} ${typeof c.path === 'string' ? c.path : pathLabel(c)} — ${c.name}`, c] as const,
    ),
  )('%s', async (_label, c) => {
    const before = await snapshot();
    const requestId = requestIdFor(c.name);
    const res = await build(h, c, requestId);

    expect(res.headers['x-request-id']).toBe(requestId);
    // On a 5xx the failure message shows what the server logged for this request.
    const serverErrors = logLines
      .filter((l) => l.line.requestId === requestId && l.level === 'error' && l.line.err)
      .map((l) => l.line.err);
    expectProblem(res, c.status, c.code, c.fields, serverErrors);
    for (const [name, value] of Object.entries(c.responseHeaders ?? {})) {
      expect(res.headers[name]).toEqual(typeof value === 'string' ? value : expect.stringMatching(value));
    }
    await expectAccessLog(logLines, requestId, c.status);

    // Nothing written, except the audit rows the case names, carrying the request id (and, for a failed login,
    // the lockout's failure count in Redis).
    let after = await snapshot();
    // Temporal's visibility lags a little behind a start: wait for the run a case is known to start.
    const runs = c.startsRun ? 1 : 0;
    for (let tries = 0; after.workflows < before.workflows + runs && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await snapshot();
    }
    const audit = c.audit ?? [];
    const failedLogin = audit.length > 0;
    expect(withoutLockout(after, failedLogin)).toEqual({
      ...withoutLockout(before, failedLogin),
      counts: { ...before.counts, audit_log: before.counts.audit_log! + audit.length },
      workflows: before.workflows + runs,
    });
    const rows: { action: string; metadata: unknown }[] = await h.db.query(
      'SELECT action, metadata FROM audit_log WHERE request_id = ? ORDER BY id',
      [requestId],
    );
    expect(rows.map((row) => ({ action: row.action, reason: reasonOf(row.metadata) }))).toEqual(
      audit.map((row) => ({ action: row.action, reason: row.reason })),
    );
  });

  it('has cases for every route the server serves (add them here when adding a route)', () => {
    const asked = cases.map((c) => {
      const path = typeof c.path === 'function' ? c.path(ctx) : c.path;
      return `${c.method.toUpperCase()} ${path.split('?')[0]}`;
    });
    const uncovered = servedRoutes(h).filter((route) => !asked.some((each) => routePattern(route).test(each)));
    expect(uncovered).toEqual(EXEMPT_FROM_BAD_INPUT);
  });

  it('still has a working session after every rejected logout', async () => {
    const me = await h.http.get(`${API}/auth/me`).set('Authorization', ctx.auth);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: ctx.userId, email: ctx.email });
  });

  it('generates a request id when none is sent, and puts it in the problem and the log line', async () => {
    const res = await h.http.post(`${API}/auth/login`).set('Content-Type', 'application/json').send('{oops');
    expect(res.headers['x-request-id']).toMatch(UUID_V4);
    expectProblem(res, 400, 'invalid_json');
    await expectAccessLog(logLines, res.headers['x-request-id']!, 400);
  });

  it('accepts the bearer scheme in any case (RFC 9110 §11.1: auth schemes are case-insensitive)', async () => {
    // Regression: AuthGuard matched /^Bearer /, so "bearer <token>" got a 401 (the scheme is case-insensitive).
    const res = await h.http.get(`${API}/auth/me`).set('Authorization', `bearer ${ctx.accessToken}`);
    expect(res.status).toBe(200);
  });

  it('treats Idempotency-Key values that differ only in case as different keys', async () => {
    // Regression: turns.idempotency_key used the case-insensitive utf8mb4_unicode_ci collation, so "abc" found the turn
    // of "ABC": a different request got 422 idempotency_key_reused, the same one got the other key's turn.
    const send = (key: string, content: string) =>
      h.http
        .post(`${API}/conversations/${ctx.conversationId}/messages`)
        .set('Authorization', ctx.auth)
        .set('Idempotency-Key', key)
        .send({ content });
    const key = `Case-Key-${uniqueSuffix()}`;
    const first = await send(key, 'first of two keys');
    expect(first.status).toBe(200);
    await settleTurn(h, first.body.turnId as string);
    const second = await send(key.toLowerCase(), 'second of two keys');
    expect([second.status, second.body.code]).toEqual([200, undefined]);
    expect(second.body.turnId).not.toBe(first.body.turnId);
    if (second.status === 200) await settleTurn(h, second.body.turnId as string);
  });

  describe('limits are enforced the way MySQL stores text (accepted intact, or refused naming the field)', () => {
    it('a systemPrompt of 20 000 four-byte characters (80 000 bytes, more than a TEXT column holds)', async () => {
      // Regression: MaxLength(20000) counts code points, conversations.system_prompt is TEXT (65 535 bytes): the
      // INSERT failed and the client got a 500.
      const before = await snapshot();
      const systemPrompt = '😀'.repeat(20000);
      const res = await h.http.post(`${API}/conversations`).set('Authorization', ctx.auth).send({ systemPrompt });
      expect(res.status).toBeLessThan(500);
      if (res.status === 201) {
        expect(res.body.systemPrompt).toBe(systemPrompt);
      } else {
        expectProblem(res, 400, 'validation_failed', ['systemPrompt']);
        expect(await snapshot()).toEqual(before);
      }
    });
  });

  describe(`a body over API_BODY_LIMIT_BYTES (set to 2048) is refused with 413`, () => {
    const limit = 2048;
    const bodyOf = (bytes: number): string => {
      const shell = JSON.stringify({ pad: '' });
      return JSON.stringify({ pad: chars(bytes - shell.length) });
    };
    let smallAuth: string;
    beforeAll(async () => {
      ({ auth: smallAuth } = await signUp(small, 'bea'));
    });

    it.each([
      ['register', `${API}/auth/register`, false, ['email', 'password', 'displayName']],
      ['login', `${API}/auth/login`, false, ['email', 'password']],
      ['refresh', `${API}/auth/refresh`, false, ['refreshToken']],
      ['create conversation', `${API}/conversations`, true, []],
      ['send message', `${API}/conversations/${MISSING_ID}/messages`, true, ['content']],
    ] as const)('%s: one byte over → 413, exactly at the limit → parsed', async (_name, path, needsAuth, required) => {
      const before = await snapshot(small);
      const over = await small.http
        .post(path)
        .set('X-Forwarded-For', nextClientAddress())
        .set(needsAuth ? { Authorization: smallAuth } : {})
        .set('Content-Type', 'application/json')
        .send(bodyOf(limit + 1));
      expectProblem(over, 413, 'payload_too_large');
      expect(over.body.detail).toContain(String(limit));

      const at = await small.http
        .post(path)
        .set('X-Forwarded-For', nextClientAddress())
        .set(needsAuth ? { Authorization: smallAuth } : {})
        .set('Content-Type', 'application/json')
        .send(bodyOf(limit));
      // Parsed, then refused for its fields (the unknown "pad", the missing required ones) — not for its size.
      expectProblem(at, 400, 'validation_failed', ['pad', ...required]);
      expect(await snapshot(small)).toEqual(before);
    });

    it('a chunked body (no Content-Length) over the limit → 413', async () => {
      const before = await snapshot(small);
      const res = await new Promise<{ status: number; type: string; body: Record<string, unknown>; rid: string }>(
        (resolve, reject) => {
          const url = new URL(`${API}/auth/login`, small.baseUrl);
          const req = httpRequest(
            url,
            {
              method: 'POST',
              headers: {
                'Content-Type': 'application/json',
                'Transfer-Encoding': 'chunked',
                'X-Forwarded-For': nextClientAddress(),
              },
            },
            (response) => {
              let text = '';
              response.setEncoding('utf8');
              response.on('data', (chunk: string) => (text += chunk));
              response.on('end', () =>
                resolve({
                  status: response.statusCode ?? 0,
                  type: String(response.headers['content-type']),
                  body: JSON.parse(text) as Record<string, unknown>,
                  rid: String(response.headers['x-request-id']),
                }),
              );
            },
          );
          req.on('error', reject);
          const body = bodyOf(limit * 3);
          for (let i = 0; i < body.length; i += 512) req.write(body.slice(i, i + 512));
          req.end();
        },
      );
      expect(res.status).toBe(413);
      expect(res.type).toMatch(PROBLEM_JSON);
      expect(res.body).toMatchObject({ code: 'payload_too_large', requestId: res.rid });
      expect(await snapshot(small)).toEqual(before);
    });
  });

  describe('property: random input never yields a 5xx, always problem+json on 4xx, and writes nothing', () => {
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.string({ minLength: 12, maxLength: 40 }),
    );
    const value = fc.oneof(
      { weight: 4, arbitrary: text },
      fc.jsonValue({ maxDepth: 3 }),
      fc.constant(null),
      fc.integer(),
    );

    /** A field's value: often plausible (so some requests get deep into the service), else anything. */
    const field = (plausible: fc.Arbitrary<unknown>) => fc.oneof({ weight: 2, arbitrary: plausible }, value);
    const someText = (minLength: number, maxLength: number) =>
      fc.oneof(fc.string({ minLength, maxLength }), fc.string({ unit: 'grapheme', minLength, maxLength }));

    /** Objects with the route's required fields or only some, perhaps with an unknown field. */
    function objects(fields: Record<string, fc.Arbitrary<unknown>>, required: string[]): fc.Arbitrary<Body> {
      return fc
        .tuple(
          fc.oneof(
            { weight: 2, arbitrary: fc.record(fields, { requiredKeys: required }) },
            fc.record(fields, { requiredKeys: [] }),
          ),
          fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 1 }),
          fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, fc.constant(true)),
        )
        .map(([known, extra, withExtra]) => json(withExtra ? { ...extra, ...known } : known));
    }

    function bodies(fields: Record<string, fc.Arbitrary<unknown>>, required: string[]): fc.Arbitrary<Body> {
      return fc.oneof(
        { weight: 4, arbitrary: objects(fields, required) },
        fc.jsonValue({ maxDepth: 4 }).map((v) => json(v)),
        text.map((t) => raw(t)),
        fc
          .tuple(
            fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16'),
            text,
          )
          .map(([type, t]) => raw(t, type)),
      );
    }

    /**
     * Sends one random body and checks the invariants. `allowed` says which writes a given status may make: a
     * failed login is audited; a request the API accepts may write what accepting it means.
     */
    async function attack(
      path: string,
      body: Body,
      allowed: (status: number) => 'nothing' | 'one audit row' | 'accepted',
      extra: Record<string, string> = {},
    ): Promise<Response> {
      const before = await snapshot();
      const req = h.http.post(path).set('X-Forwarded-For', nextClientAddress()).set(extra);
      if ('raw' in body) req.set('Content-Type', body.type ?? 'application/json').send(body.raw);
      const res = await req;
      expect(res.status).toBeLessThan(500);
      const requestId = res.headers['x-request-id'];
      expect(requestId).toMatch(UUID_V4);
      if (res.status >= 400) {
        expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
        expect(res.body).toMatchObject({ status: res.status, code: expect.stringMatching(/^[a-z_]+$/), requestId });
      }
      const writes = allowed(res.status);
      if (writes === 'accepted') return res;
      const after = await snapshot();
      const audited = writes === 'one audit row' ? 1 : 0;
      expect(withoutLockout(after, audited > 0)).toEqual({
        ...withoutLockout(before, audited > 0),
        counts: { ...before.counts, audit_log: before.counts.audit_log! + audited },
      });
      return res;
    }

    it('register', async () => {
      await fc.assert(
        fc.asyncProperty(
          bodies(
            {
              email: field(fc.emailAddress()),
              password: field(someText(12, 40)),
              displayName: field(someText(1, 30)),
            },
            ['email', 'password', 'displayName'],
          ),
          async (body) => {
            await attack(`${API}/auth/register`, body, (status) => (status === 201 ? 'accepted' : 'nothing'));
          },
        ),
        { numRuns: 50 },
      );
    });

    it('login', async () => {
      await fc.assert(
        fc.asyncProperty(
          // Random addresses only: five failures for one address would lock it (423), which is another test's topic.
          bodies(
            {
              email: field(fc.emailAddress()),
              password: field(someText(1, 40)),
              otp: fc.oneof(value, fc.stringMatching(/^[0-9]{6}$/)),
            },
            ['email', 'password'],
          ),
          async (body) => {
            await attack(`${API}/auth/login`, body, (status) => (status === 401 ? 'one audit row' : 'nothing'));
          },
        ),
        { numRuns: 50 },
      );
    });

    it('refresh', async () => {
      await fc.assert(
        fc.asyncProperty(
          bodies({ refreshToken: field(fc.oneof(someText(16, 80), fc.constant(`gcr_${'x'.repeat(43)}`))) }, [
            'refreshToken',
          ]),
          async (body) => {
            await attack(`${API}/auth/refresh`, body, () => 'nothing');
          },
        ),
        { numRuns: 30 },
      );
    });

    it('2fa enable (no setup pending: nothing may change)', async () => {
      await fc.assert(
        fc.asyncProperty(
          bodies({ otp: field(fc.oneof(fc.stringMatching(/^[0-9]{6}$/), someText(1, 20))) }, ['otp']),
          async (body) => {
            await attack(`${API}/auth/2fa/enable`, body, () => 'nothing', { Authorization: ctx.auth });
          },
        ),
        { numRuns: 30 },
      );
    });

    it('create API token', async () => {
      await fc.assert(
        fc.asyncProperty(
          bodies(
            {
              name: field(someText(1, 40)),
              scopes: field(
                fc.array(fc.constantFrom('chat:read', 'chat:write', 'files:read', 'files:write', 'admin', 'root'), {
                  maxLength: 4,
                }),
              ),
              expiresInDays: fc.oneof(value, fc.integer({ min: -5, max: 4000 })),
            },
            ['name', 'scopes'],
          ),
          async (body) => {
            await attack(`${API}/tokens`, body, (status) => (status === 201 ? 'accepted' : 'nothing'), {
              Authorization: ctx.auth,
            });
          },
        ),
        { numRuns: 30 },
      );
    });

    it('create replay', async () => {
      await fc.assert(
        fc.asyncProperty(
          bodies(
            {
              selection: field(
                fc.oneof(
                  fc.constant({ conversationIds: [ctx.conversationId] }),
                  fc.record(
                    { userId: fc.oneof(fc.uuid(), fc.constant(ctx.userId)), query: someText(1, 20) },
                    {
                      requiredKeys: [],
                    },
                  ),
                ),
              ),
              arms: field(
                fc.array(fc.record({ model: fc.oneof(fc.constant('fake-model'), someText(1, 12)) }), { maxLength: 3 }),
              ),
              mode: field(fc.constantFrom('pinned', 'trajectory')),
              limits: fc.oneof(value, fc.record({ concurrency: fc.integer({ min: -2, max: 100 }) })),
            },
            ['selection', 'arms', 'mode'],
          ),
          async (body) => {
            const res = await attack(`${API}/replays`, body, (status) => (status === 202 ? 'accepted' : 'nothing'), {
              Authorization: ctx.auth,
            });
            // An accepted replay runs: let it end before the next run takes its snapshot.
            if (res.status === 202) {
              await waitFor(async () => {
                const replay = await h.http.get(`${API}/replays/${res.body.id}`).set('Authorization', ctx.auth);
                return ['completed', 'failed', 'cancelled'].includes(replay.body.status) ? true : undefined;
              });
            }
          },
        ),
        { numRuns: 40 },
      );
    });

    it('send message', async () => {
      await fc.assert(
        fc.asyncProperty(
          bodies(
            {
              content: field(someText(1, 60)),
              parentMessageId: fc.oneof(value, fc.uuid()),
              model: fc.oneof(value, fc.constant('fake-model')),
            },
            ['content'],
          ),
          fc.option(fc.string({ unit: 'grapheme-ascii', maxLength: 20 }), { nil: undefined }),
          async (body, key) => {
            const headers: Record<string, string> = { Authorization: ctx.auth };
            if (key !== undefined) headers['Idempotency-Key'] = key;
            const res = await attack(
              `${API}/conversations/${ctx.conversationId}/messages`,
              body,
              (status) => (status === 200 ? 'accepted' : 'nothing'),
              headers,
            );
            // An accepted message runs a real turn: let it finish writing before the next run takes its snapshot.
            if (res.status === 200) await settleTurn(h, res.body.turnId as string);
          },
        ),
        { numRuns: 50 },
      );
    });
  });
});

/**
 * Each request comes from a client address of its own (the API trusts X-Forwarded-For from loopback, as behind a
 * local reverse proxy), so the per-address rate limit of the auth routes does not turn the 200-odd requests of this
 * file into 429s: each case is about its input, not about request rates.
 */
let clientCounter = 0;
function nextClientAddress(): string {
  clientCounter += 1;
  return `198.18.${(clientCounter >> 8) & 255}.${clientCounter & 255}`;
}

/** `GET /api/v1/files/{id}` as a pattern the concrete paths of the cases match (any id, right or wrong). */
function routePattern(route: string): RegExp {
  const parts = route.split(/\{\w+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^/]+')}$`);
}

function withoutLockout(snapshot: Snapshot, failedLogin: boolean): Snapshot {
  return failedLogin
    ? { ...snapshot, redisKeys: snapshot.redisKeys.filter((key) => !LOCKOUT_KEYS.test(key)) }
    : snapshot;
}

function pathLabel(c: Case): string {
  const fake: Ctx = {
    replayId: ':id',
    conversationId: ':id',
    turnId: ':turnId',
    userMessageId: ':messageId',
    assistantMessageId: ':messageId',
  } as Ctx;
  try {
    return (c.path as (x: Ctx) => string)(fake);
  } catch {
    return '(path)';
  }
}

function reasonOf(metadata: unknown): string | undefined {
  const parsed = typeof metadata === 'string' ? (JSON.parse(metadata) as unknown) : metadata;
  return (parsed as { reason?: string } | null)?.reason;
}

function expectProblem(
  res: Response,
  status: number,
  code: string | readonly string[],
  fields?: string[],
  serverErrors: unknown[] = [],
): void {
  if (res.status !== status) {
    const seen = JSON.stringify({ body: res.body as unknown, serverErrors }).slice(0, 1500);
    throw new Error(`Expected status ${status}, got ${res.status}: ${seen}`);
  }
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  const body = res.body as {
    type: string;
    title: string;
    status: number;
    detail: string;
    code: string;
    requestId: string;
    errors?: { field: string; message: string }[];
  };
  expect(body).toMatchObject({
    // RFC 9457: a URI reference (the project uses urn:gigachat:problem:<code>).
    type: expect.stringMatching(/^[a-z][a-z0-9+.-]*:\S+$/i),
    title: expect.any(String),
    status,
    detail: expect.any(String),
  });
  if (typeof code === 'string') expect(body.code).toBe(code);
  else expect(code).toContain(body.code);
  expect(body.requestId).toBe(res.headers['x-request-id']);
  if (fields) {
    expect(body.errors).toEqual(expect.any(Array));
    for (const error of body.errors!) {
      expect(error).toEqual({ field: expect.any(String), message: expect.stringMatching(/\S/) });
    }
    expect([...new Set(body.errors!.map((error) => error.field))].sort()).toEqual([...new Set(fields)].sort());
  }
}

/** Records the API's log lines (the harness logs at `silent`, so the calls are intercepted, not the output). */
function captureLogs(h: Harness, lines: { level: string; line: Record<string, unknown> }[]): void {
  const logger = h.app.get<symbol, Logger>(LOGGER);
  for (const level of ['info', 'warn', 'error'] as const) {
    jest.spyOn(logger, level).mockImplementation((line: unknown) => {
      if (line && typeof line === 'object') lines.push({ level, line: line as Record<string, unknown> });
    });
  }
}

/** The access-log line of the request carries its id and status; a rejected input is never logged as an error. */
async function expectAccessLog(
  lines: { level: string; line: Record<string, unknown> }[],
  requestId: string,
  status: number,
): Promise<void> {
  const access = await waitFor(
    async () => lines.find((l) => l.line.requestId === requestId && typeof l.line.status === 'number'),
    2000,
    10,
  );
  expect(access).toMatchObject({ level: 'info', line: { requestId, status } });
  expect(lines.filter((l) => l.line.requestId === requestId && l.level === 'error')).toEqual([]);
}

/** Waits until a turn has written everything it writes (its final audit row comes after the answer). */
async function settleTurn(h: Harness, turnId: string): Promise<void> {
  await waitFor(async () => {
    const rows: unknown[] = await h.db.query(
      "SELECT id FROM audit_log WHERE target_id = ? AND action IN ('turn.completed', 'turn.failed')",
      [turnId],
    );
    return rows.length > 0 ? true : undefined;
  });
}
