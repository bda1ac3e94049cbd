/**
 * A small fake of an OpenAI-compatible API, speaking the real wire format so that the real `openai` SDK (and any
 * other client) is exercised end to end:
 *
 * - `POST /v1/chat/completions` — JSON, or server-sent events with `stream: true` (`chat.completion.chunk` objects,
 *   a final usage chunk when `stream_options.include_usage` is set, then `data: [DONE]`);
 * - `POST /v1/embeddings` — deterministic, L2-normalised vectors (float or base64), single or batch input;
 * - `GET /v1/models`, `GET /v1/models/:id`.
 *
 * Behaviour is scriptable at runtime (delays, reply function, failure queue, hanging requests, API key).
 * Run it standalone with `PORT=4010 node dist/test/fakes/fake-llm.server.js`; it prints its base URL on stdout.
 */
import { createHash } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { closeServer, listen, runStandalone } from './http-server';

export interface FakeChatMessage {
  role: string;
  content: string;
  /** An assistant message's tool calls (`name`, `arguments` as JSON text). */
  toolCalls?: { id: string; name: string; arguments: string }[];
  /** A `tool` message: the call it answers. */
  toolCallId?: string;
}

/** A tool call the fake model makes: `arguments` is sent as given (so a test can send invalid JSON too). */
export interface FakeToolCall {
  name: string;
  arguments: string;
}

/**
 * Decides which tools the model calls when a request offers some (`tools`, `tool_choice` not `none`); none: it answers
 * in text. `step` counts the tool rounds since the last user message (0: the first call of a turn).
 */
export type FakeToolPlan = (messages: FakeChatMessage[], step: number, body: Record<string, unknown>) => FakeToolCall[];

/** Produces the assistant's reply; `body` is the whole parsed request. */
export type FakeReply = (messages: FakeChatMessage[], body: Record<string, unknown>) => string;

export interface RecordedRequest {
  method: string;
  /** Path including the query string, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; the raw text when it was not JSON; undefined when there was none. */
  body: unknown;
  /** True when the client went away before the response was complete (abort, timeout). */
  aborted: boolean;
}

export interface FakeLlmOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`, otherwise they get a 401. */
  apiKey?: string;
  /** Delay before the first token (streaming) or the whole answer (non-streaming). Default 0. */
  firstTokenDelayMs?: number;
  /** Delay between two tokens. Default 0. */
  tokenDelayMs?: number;
  /** Default: {@link modelReply} (echoes for every model but a few named ones; judges a judge prompt). */
  reply?: FakeReply;
  /** Embedding size when the request has no `dimensions`. Default 64. */
  embeddingDimensions?: number;
  /** Ids listed by `GET /v1/models`. */
  models?: string[];
  /** Keep every request in `requests`. Default true; turn off for long benchmark runs. */
  recordRequests?: boolean;
  /** Default: {@link directiveToolPlan}. */
  toolPlan?: FakeToolPlan;
}

export interface FakeLlm {
  /** Base URL for an OpenAI client, ending in `/v1`. */
  readonly url: string;
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[];
  apiKey: string | undefined;
  firstTokenDelayMs: number;
  tokenDelayMs: number;
  reply: FakeReply;
  toolPlan: FakeToolPlan;
  embeddingDimensions: number;
  /**
   * The next `n` POST requests fail with `status`. `body` defaults to an OpenAI-style error object (a string is sent
   * as text/plain, like a proxy's error page); a 429 gets `Retry-After: 1` unless `headers` says otherwise.
   */
  failNext(n: number, status: number, body?: unknown, headers?: Record<string, string>): void;
  /**
   * The next `n` POST requests never complete; they end only when the client gives up or the server closes.
   * With `afterDeltas`, a streaming completion first sends that many content deltas, then stalls.
   */
  hangNext(n?: number, options?: { afterDeltas?: number }): void;
  /** Clears recorded requests and scripted behaviour, and restores the delays and reply given at start. */
  reset(): void;
  /** Stops listening and drops every open connection (pending requests included). */
  close(): Promise<void>;
}

type Scripted =
  | { kind: 'fail'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'hang'; afterDeltas?: number };

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** `Echo: <last user message>`. */
export const echoReply: FakeReply = (messages) => {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  return `Echo: ${lastUser?.content ?? ''}`;
};

/**
 * The default tool plan, driven by the user's message: `<<tool NAME ARGS>>` calls NAME with ARGS (JSON text, sent as
 * written) on the first step; `<<tool@2 NAME ARGS>>` on the third; `<<tool@* NAME ARGS>>` on every step (a model
 * that never stops calling). Several directives for one step are parallel calls.
 */
export const directiveToolPlan: FakeToolPlan = (messages, step) => {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const calls: FakeToolCall[] = [];
  for (const match of lastUser.matchAll(/<<tool(?:@(\d+|\*))? ([a-z0-9_.-]+) (.*?)>>/g)) {
    const at = match[1] ?? '0';
    if (at === '*' || Number(at) === step) calls.push({ name: match[2]!, arguments: match[3]! });
  }
  return calls;
};

/** After a tool round the default answer reports what the tools said: `Tools said: <result> | <result>`. */
function toolResultsReply(messages: FakeChatMessage[]): string | undefined {
  const lastUser = messages.map((m) => m.role).lastIndexOf('user');
  const results = messages.slice(lastUser + 1).filter((m) => m.role === 'tool');
  return results.length > 0 ? `Tools said: ${results.map((m) => m.content).join(' | ')}` : undefined;
}

/** How a judge prompt opens (libs/replay/replay-judge.ts JUDGE_PREAMBLE). */
const JUDGE_PREAMBLE = 'You are an impartial judge';

/**
 * A judge's verdict as JSON: the longer of `[Answer A]` and `[Answer B]` wins, equal lengths tie. Deterministic, so a
 * test knows which answer should win whatever order the judge was shown them in.
 */
export const judgeReply: FakeReply = (messages) => {
  const prompt = messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  const a = /\[Answer A\]\n([\s\S]*?)\n\n\[Answer B\]\n/.exec(prompt)?.[1] ?? '';
  const b = /\[Answer B\]\n([\s\S]*)$/.exec(prompt)?.[1] ?? '';
  const winner = a.length === b.length ? 'tie' : a.length > b.length ? 'A' : 'B';
  const reason = winner === 'tie' ? 'Both answers are equally complete.' : `Answer ${winner} is more complete.`;
  return JSON.stringify({ winner, reason });
};

/**
 * The default reply, by model, so a replay against two models has differences to find. Every model not named here
 * echoes (`Echo: <last user message>`), as every existing test expects:
 *
 * - `fake-verbose`: `Echo: <message> In more detail: <message>` (longer: the judge prefers it);
 * - `fake-terse`: the message's first word (shorter: the judge prefers the other);
 * - `fake-recall`: `Echo: <message> (after: <the previous assistant message, or nothing>)`: shows the history it was
 *   given, so pinned and trajectory replays differ;
 * - `fake-refuser`: a refusal.
 *
 * A judge prompt (its system message opens with "You are an impartial judge") gets {@link judgeReply}, whatever model.
 */
export const modelReply: FakeReply = (messages, body) => {
  if (messages.some((m) => m.role === 'system' && m.content.startsWith(JUDGE_PREAMBLE)))
    return judgeReply(messages, body);
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  switch (body['model']) {
    case 'fake-verbose':
      return `Echo: ${lastUser} In more detail: ${lastUser}`;
    case 'fake-terse':
      return lastUser.split(/\s+/)[0] ?? '';
    case 'fake-recall': {
      const at = messages.map((m) => m.role).lastIndexOf('user');
      const previous =
        messages
          .slice(0, at)
          .filter((m) => m.role === 'assistant')
          .at(-1)?.content ?? 'nothing';
      return `Echo: ${lastUser} (after: ${previous})`;
    }
    case 'fake-refuser':
      return "I'm sorry, but I can't help with that.";
    default:
      return echoReply(messages, body);
  }
};

/** Splits text into word-sized tokens whose concatenation is the text: `"a b"` → `["a ", "b"]`. */
export function splitIntoTokens(text: string): string[] {
  return text.match(/\s*\S+\s*|\s+/g) ?? [];
}

/**
 * A deterministic embedding: each word is hashed onto a few signed dimensions (the hashing trick), and the sum is
 * L2-normalised. Texts that share words get similar vectors, so retrieval tests can rank by meaning-ish.
 */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const feature of words.length > 0 ? words : [text]) {
    const digest = createHash('sha256').update(feature).digest();
    for (let k = 0; k < 4; k++) {
      const index = digest.readUInt32LE(k * 8) % dimensions;
      const sign = (digest.readUInt8(k * 8 + 4) & 1) === 1 ? 1 : -1;
      vector[index] = (vector[index] ?? 0) + sign;
    }
  }
  let norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  if (norm === 0) {
    // Every feature cancelled out; fall back to one dimension picked by the whole text.
    const index = createHash('sha256').update(text).digest().readUInt32LE(0) % dimensions;
    vector[index] = 1;
    norm = 1;
  }
  // Rounded to float32 so the float and base64 encodings carry the same numbers.
  return vector.map((x) => Math.fround(x / norm));
}

/** Rough token count for usage figures: words and punctuation marks. */
function countTokens(text: string): number {
  return (text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []).length;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly errorType = 'invalid_request_error',
  ) {
    super(message);
  }
}

function errorBody(message: string, type: string, code: string | null): object {
  return { error: { message, type, param: null, code } };
}

function defaultFailure(status: number): object {
  if (status === 429) return errorBody('Rate limit reached (fake)', 'requests', 'rate_limit_exceeded');
  if (status === 401) return errorBody('Incorrect API key provided (fake)', 'invalid_request_error', 'invalid_api_key');
  if (status === 403) return errorBody('Forbidden (fake)', 'invalid_request_error', null);
  if (status >= 500)
    return errorBody('The server had an error while processing your request (fake)', 'server_error', null);
  return errorBody(`Request failed with status ${status} (fake)`, 'invalid_request_error', null);
}

/** Per-request state: whether the client is still there, and cancellable waits. */
class Exchange {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;

  constructor(
    readonly res: ServerResponse,
    readonly record: RecordedRequest,
  ) {
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
      this.controller.abort();
    });
    res.on('error', () => this.controller.abort());
  }

  get gone(): boolean {
    return this.signal.aborted;
  }

  /** Ends the exchange from the server side (closing); the response is then incomplete. */
  abort(): void {
    if (!this.res.writableFinished) this.record.aborted = true;
    this.controller.abort();
  }

  /** Waits `ms`; resolves false (at once) if the client went away. The timer never outlives the request. */
  sleep(ms: number): Promise<boolean> {
    if (this.gone) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Waits until the client goes away (or the server closes); no timer involved. */
  hang(): Promise<void> {
    if (this.gone) return Promise.resolve();
    return new Promise((resolve) => this.signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (this.gone) return;
    const text = JSON.stringify(body);
    this.res.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    this.res.end(text);
  }

  text(status: number, text: string, headers: Record<string, string> = {}): void {
    if (this.gone) return;
    this.res.writeHead(status, {
      ...headers,
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    this.res.end(text);
  }

  /** Writes one SSE event; false if the client is gone. */
  event(data: string): boolean {
    if (this.gone) return false;
    this.res.write(`data: ${data}\n\n`);
    return true;
  }
}

class FakeLlmServer implements FakeLlm {
  readonly requests: RecordedRequest[] = [];
  url = '';
  apiKey: string | undefined;
  firstTokenDelayMs: number;
  tokenDelayMs: number;
  reply: FakeReply;
  toolPlan: FakeToolPlan;
  embeddingDimensions: number;

  private readonly server: Server;
  private readonly exchanges = new Set<Exchange>();
  private readonly script: Scripted[] = [];
  private readonly models: string[];
  private readonly record: boolean;
  private sequence = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: FakeLlmOptions) {
    this.apiKey = options.apiKey;
    this.firstTokenDelayMs = options.firstTokenDelayMs ?? 0;
    this.tokenDelayMs = options.tokenDelayMs ?? 0;
    this.reply = options.reply ?? modelReply;
    this.toolPlan = options.toolPlan ?? directiveToolPlan;
    this.embeddingDimensions = options.embeddingDimensions ?? 64;
    this.models = options.models ?? ['fake-chat', 'fake-embedding'];
    this.record = options.recordRequests ?? true;
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  async listen(): Promise<void> {
    this.url = `${await listen(this.server, this.options.port ?? 0, this.options.host ?? '127.0.0.1')}/v1`;
  }

  failNext(n: number, status: number, body?: unknown, headers?: Record<string, string>): void {
    for (let i = 0; i < n; i++) this.script.push({ kind: 'fail', status, body, headers });
  }

  hangNext(n = 1, options: { afterDeltas?: number } = {}): void {
    for (let i = 0; i < n; i++) this.script.push({ kind: 'hang', afterDeltas: options.afterDeltas });
  }

  reset(): void {
    this.requests.length = 0;
    this.script.length = 0;
    this.apiKey = this.options.apiKey;
    this.firstTokenDelayMs = this.options.firstTokenDelayMs ?? 0;
    this.tokenDelayMs = this.options.tokenDelayMs ?? 0;
    this.reply = this.options.reply ?? modelReply;
    this.toolPlan = this.options.toolPlan ?? directiveToolPlan;
    this.embeddingDimensions = this.options.embeddingDimensions ?? 64;
  }

  close(): Promise<void> {
    if (!this.closing) {
      for (const exchange of this.exchanges) exchange.abort();
      this.closing = closeServer(this.server);
    }
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body: undefined,
      aborted: false,
    };
    const exchange = new Exchange(res, record);
    this.exchanges.add(exchange);
    res.on('close', () => this.exchanges.delete(exchange));
    req.on('error', () => exchange.abort());
    try {
      record.body = await readBody(req);
      if (this.record) this.requests.push(record);
      await this.route(exchange, record);
    } catch (err) {
      if (res.headersSent) res.destroy();
      else if (err instanceof HttpError) exchange.json(err.status, errorBody(err.message, err.errorType, err.code));
      else exchange.json(500, errorBody(`Fake LLM failure: ${String(err)}`, 'server_error', null));
    }
  }

  private async route(exchange: Exchange, record: RecordedRequest): Promise<void> {
    const path = record.path.split('?')[0] ?? '';
    const method = record.method;
    if (method === 'POST') {
      const scripted = this.script.shift();
      if (scripted?.kind === 'fail') {
        const headers: Record<string, string> = scripted.status === 429 ? { 'retry-after': '1' } : {};
        // Header names are case-insensitive: `Retry-After` replaces the default rather than doubling it.
        for (const [name, value] of Object.entries(scripted.headers ?? {})) headers[name.toLowerCase()] = value;
        if (typeof scripted.body === 'string') exchange.text(scripted.status, scripted.body, headers);
        else exchange.json(scripted.status, scripted.body ?? defaultFailure(scripted.status), headers);
        return;
      }
      this.authorize(record.headers);
      if (path === '/v1/chat/completions') return this.chatCompletions(exchange, body(record), scripted);
      if (path === '/v1/embeddings') {
        if (scripted) return exchange.hang();
        return this.embeddings(exchange, body(record));
      }
    } else if (method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
      this.authorize(record.headers);
      return this.listModels(exchange, decodeURIComponent(path.slice('/v1/models/'.length)));
    }
    throw new HttpError(404, `Unknown request URL: ${method} ${path}`, 'unknown_url');
  }

  private authorize(headers: IncomingHttpHeaders): void {
    if (this.apiKey === undefined) return;
    const header = headers.authorization ?? '';
    if (header !== `Bearer ${this.apiKey}`) {
      throw new HttpError(401, 'Incorrect API key provided (fake)', 'invalid_api_key');
    }
  }

  private listModels(exchange: Exchange, id: string): void {
    const created = 1_700_000_000;
    const model = (modelId: string): object => ({ id: modelId, object: 'model', created, owned_by: 'fake-llm' });
    if (id === '') {
      exchange.json(200, { object: 'list', data: this.models.map(model) });
    } else if (this.models.includes(id)) {
      exchange.json(200, model(id));
    } else {
      throw new HttpError(404, `The model '${id}' does not exist`, 'model_not_found');
    }
  }

  private async chatCompletions(
    exchange: Exchange,
    request: Record<string, unknown>,
    scripted: Scripted | undefined,
  ): Promise<void> {
    const model = request['model'];
    if (typeof model !== 'string' || model === '') throw new HttpError(400, 'you must provide a model parameter');
    const messages = parseMessages(request['messages']);
    const offered = Array.isArray(request['tools']) && request['tools'].length > 0 && request['tool_choice'] !== 'none';
    let content: string;
    let toolCalls: FakeToolCall[] = [];
    try {
      const lastUser = messages.map((m) => m.role).lastIndexOf('user');
      const step = messages.slice(lastUser + 1).filter((m) => m.role === 'assistant' && m.toolCalls?.length).length;
      if (offered) toolCalls = this.toolPlan(messages, step, request);
      content = toolCalls.length > 0 ? '' : (toolResultsReply(messages) ?? this.reply(messages, request));
    } catch (err) {
      throw new HttpError(500, `reply function failed: ${String(err)}`, null, 'server_error');
    }
    let tokens = splitIntoTokens(content);
    let finishReason = toolCalls.length > 0 ? 'tool_calls' : 'stop';
    const wireCalls = toolCalls.map((call, index) => ({
      index,
      id: `call_fake${this.sequence + 1}_${index}`,
      type: 'function' as const,
      function: { name: call.name, arguments: call.arguments },
    }));
    const limit = request['max_completion_tokens'] ?? request['max_tokens'];
    if (typeof limit === 'number' && limit >= 0 && tokens.length > limit) {
      tokens = tokens.slice(0, limit);
      finishReason = 'length';
    }
    const promptTokens = messages.reduce((sum, m) => sum + 4 + countTokens(m.content), 0);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: tokens.length,
      total_tokens: promptTokens + tokens.length,
    };
    const id = `chatcmpl-fake${++this.sequence}`;
    const created = Math.floor(Date.now() / 1000);
    const hangAfter = scripted?.kind === 'hang' ? (scripted.afterDeltas ?? 0) : undefined;

    if (request['stream'] !== true) {
      if (hangAfter !== undefined) return exchange.hang();
      const took = this.firstTokenDelayMs + this.tokenDelayMs * Math.max(0, tokens.length - 1);
      if (!(await exchange.sleep(took))) return;
      exchange.json(200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: wireCalls.length > 0 ? null : tokens.join(''),
              refusal: null,
              ...(wireCalls.length > 0 ? { tool_calls: wireCalls.map(({ index: _index, ...call }) => call) } : {}),
            },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage,
        system_fingerprint: null,
      });
      return;
    }

    const streamOptions = request['stream_options'];
    const includeUsage =
      typeof streamOptions === 'object' && streamOptions !== null && 'include_usage' in streamOptions
        ? streamOptions.include_usage === true
        : false;
    const chunk = (delta: object, finish: string | null): string =>
      JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        system_fingerprint: null,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        ...(includeUsage ? { usage: null } : {}),
      });

    exchange.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    exchange.res.flushHeaders();
    if (hangAfter === 0) return exchange.hang();
    if (!(await exchange.sleep(this.firstTokenDelayMs))) return;
    if (!exchange.event(chunk({ role: 'assistant', content: '', refusal: null }, null))) return;
    for (const [i, token] of tokens.entries()) {
      if (i > 0 && !(await exchange.sleep(this.tokenDelayMs))) return;
      if (!exchange.event(chunk({ content: token }, null))) return;
      if (hangAfter === i + 1) return exchange.hang();
    }
    // Tool calls stream as OpenAI streams them: the id and name first, then the arguments in two fragments.
    for (const call of wireCalls) {
      const half = Math.ceil(call.function.arguments.length / 2);
      const head = { ...call, function: { name: call.function.name, arguments: '' } };
      if (!exchange.event(chunk({ tool_calls: [head] }, null))) return;
      for (const fragment of [call.function.arguments.slice(0, half), call.function.arguments.slice(half)]) {
        if (!exchange.event(chunk({ tool_calls: [{ index: call.index, function: { arguments: fragment } }] }, null)))
          return;
      }
    }
    if (hangAfter !== undefined) return exchange.hang();
    if (!exchange.event(chunk({}, finishReason))) return;
    if (includeUsage) {
      exchange.event(JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage }));
    }
    if (!exchange.event('[DONE]')) return;
    exchange.res.end();
  }

  private embeddings(exchange: Exchange, request: Record<string, unknown>): void {
    const model = request['model'];
    if (typeof model !== 'string' || model === '') throw new HttpError(400, 'you must provide a model parameter');
    const inputs = parseEmbeddingInput(request['input']);
    const dimensions = request['dimensions'] ?? this.embeddingDimensions;
    if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1) {
      throw new HttpError(400, 'dimensions must be a positive integer', null);
    }
    const format = request['encoding_format'] ?? 'float';
    if (format !== 'float' && format !== 'base64') {
      throw new HttpError(400, `encoding_format must be 'float' or 'base64'`, null);
    }
    const data = inputs.map((text, index) => {
      const vector = fakeEmbedding(text, dimensions);
      const embedding = format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    });
    const tokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
    exchange.json(200, { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }
}

function body(record: RecordedRequest): Record<string, unknown> {
  const value = record.body;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'We could not parse the JSON body of your request.', null);
  }
  return value as Record<string, unknown>;
}

function parseMessages(value: unknown): FakeChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new HttpError(400, "'messages' must be a non-empty array", null);
  }
  return value.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null) throw new HttpError(400, `messages[${i}] must be an object`);
    const { role, content, tool_calls, tool_call_id } = item as {
      role?: unknown;
      content?: unknown;
      tool_calls?: unknown;
      tool_call_id?: unknown;
    };
    if (typeof role !== 'string') throw new HttpError(400, `messages[${i}].role must be a string`);
    const message: FakeChatMessage = { role, content: contentText(content) };
    if (role === 'tool') {
      if (typeof tool_call_id !== 'string') throw new HttpError(400, `messages[${i}].tool_call_id is required`);
      message.toolCallId = tool_call_id;
    }
    if (Array.isArray(tool_calls)) {
      message.toolCalls = tool_calls.map(
        (call: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }) => ({
          id: String(call.id),
          name: String(call.function?.name),
          arguments: String(call.function?.arguments),
        }),
      );
    }
    return message;
  });
}

/** Message content is a string or an array of parts; only the text parts matter here. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string' ? part.text : '',
      )
      .join('');
  }
  return '';
}

function parseEmbeddingInput(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0) {
    // string[] is a batch; number[] is one tokenised input; number[][] a batch of them.
    if (input.every((x) => typeof x === 'number')) return [JSON.stringify(input)];
    return input.map((x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x)));
  }
  throw new HttpError(400, "'input' must be a string or a non-empty array", null);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'Request body too large', null);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const fake = new FakeLlmServer(options);
  await fake.listen();
  return fake;
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    process.exit(1);
  }
  return value;
}

if (require.main === module) {
  runStandalone('fake LLM', () =>
    startFakeLlm({
      port: envNumber('PORT', 4010),
      host: process.env['HOST'] || '127.0.0.1',
      apiKey: process.env['FAKE_LLM_API_KEY'] || undefined,
      firstTokenDelayMs: envNumber('FAKE_LLM_FIRST_TOKEN_DELAY_MS', 0),
      tokenDelayMs: envNumber('FAKE_LLM_TOKEN_DELAY_MS', 0),
      embeddingDimensions: envNumber('FAKE_LLM_EMBEDDING_DIMENSIONS', 64) || 64,
      recordRequests: false,
    }),
  );
}
