import { readFileSync } from 'node:fs';

/** What the command line asks for. */
export type ReplayCommand =
  | { kind: 'help' }
  | {
      kind: 'start';
      body: ReplayRequestBody;
      wait: boolean;
      report?: ReportFormat;
      idempotencyKey?: string;
    }
  | { kind: 'follow'; replayId: string; report?: ReportFormat };

export type ReportFormat = 'md' | 'json' | 'csv';

/** The body of `POST /api/v1/replays`. */
export interface ReplayRequestBody {
  selection: {
    conversationIds?: string[];
    userId?: string;
    since?: string;
    until?: string;
    query?: string;
  };
  arms: {
    model: string;
    label?: string;
    systemPrompt?: string | null;
    retrieval?: boolean;
    webSearch?: boolean;
  }[];
  mode: 'pinned' | 'trajectory';
  judge?: { model: string; against?: 'original' | 'first-arm'; rubric?: string; seed?: number };
  limits?: {
    concurrency?: number;
    maxConversations?: number;
    maxTurnsPerConversation?: number;
    conversationsPerRun?: number;
    providers?: { name: string; concurrency?: number; requestsPerSecond?: number }[];
  };
}

/** A command line the CLI cannot use; the message says what is wrong. */
export class UsageError extends Error {}

export const USAGE = `Replay saved conversations against other models, prompts or settings, and compare.

  npm run replay -- SELECTION --arm SPEC [--arm SPEC …] [OPTIONS]
  npm run replay -- --follow REPLAY_ID [--report md|json|csv]

Selection (conversations you may read):
  --conversations ID[,ID…]   by id; @FILE reads ids from a file, one per line
  --user ID                  owned by this user
  --since DATE, --until DATE created in [since, until) (ISO 8601)
  --query TEXT               with a message matching this search

Arms and judge:
  --arm model=NAME[,label=TEXT][,retrieval=on|off][,web=on|off][,prompt=TEXT|none]
                             one setup to replay against (prompt, when given, takes the rest of the spec)
  --mode pinned|trajectory   pinned (default): each turn gets the original history; trajectory: each arm its own
  --judge model=NAME[,against=original|first-arm][,seed=N][,rubric=TEXT]
                             compare answers pairwise (rubric, when given, takes the rest of the spec)

Limits:
  --concurrency N            conversations at once (default 8)
  --max N                    confirm the batch size (required above 10 000 conversations)
  --max-turns N              only the first N user turns of each conversation
  --provider-limit NAME[,concurrency=N][,rps=N]   per provider (repeatable)
  --conversations-per-run N  conversations one workflow run starts before it continues as new (default 500)

Output:
  --report md|json|csv       print the report on stdout when the replay ends
  --no-wait                  print the replay's id and return at once
  --idempotency-key KEY      a retried command maps to the same replay
  --follow REPLAY_ID         attach to a running (or ended) replay

Connection (environment): GIGACHAT_API_URL (default http://127.0.0.1:3000), GIGACHAT_API_TOKEN (an API token with
the admin scope, from POST /api/v1/tokens); or --api URL, --token TOKEN.

Exit code: 0 when the replay completed with no failed conversation, 1 when it failed, was cancelled or some
conversations failed, 2 when the command or the request was refused.`;

/** Flags that take a value. */
const VALUED = new Set([
  'conversations',
  'user',
  'since',
  'until',
  'query',
  'arm',
  'mode',
  'judge',
  'concurrency',
  'max',
  'max-turns',
  'provider-limit',
  'report',
  'idempotency-key',
  'follow',
  'api',
  'token',
  'conversations-per-run',
]);
const SWITCHES = new Set(['no-wait', 'help']);

export interface ParsedArgs {
  command: ReplayCommand;
  api?: string;
  token?: string;
}

/** Reads the command line (without `node` and the script). `readFile` is for `--conversations @file`. */
export function parseReplayArgs(
  argv: readonly string[],
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): ParsedArgs {
  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const [name, inline] = splitOnce(arg.slice(2), '=');
    if (SWITCHES.has(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      switches.add(name);
      continue;
    }
    if (!VALUED.has(name)) throw new UsageError(`unknown option --${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) {
      throw new UsageError(`--${name} needs a value`);
    }
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  const one = (name: string): string | undefined => {
    const given = values.get(name);
    if (given && given.length > 1) throw new UsageError(`--${name} may be given once`);
    return given?.[0];
  };
  const connection = {
    ...(one('api') !== undefined ? { api: one('api')! } : {}),
    ...(one('token') !== undefined ? { token: one('token')! } : {}),
  };
  if (switches.has('help')) return { command: { kind: 'help' }, ...connection };

  const report = reportFormat(one('report'));
  const follow = one('follow');
  if (follow !== undefined) {
    const others = [...values.keys(), ...switches].filter(
      (name) => !['follow', 'report', 'api', 'token'].includes(name),
    );
    if (others.length > 0) throw new UsageError(`--follow takes only --report (not --${others[0]})`);
    return { command: { kind: 'follow', replayId: follow, ...(report ? { report } : {}) }, ...connection };
  }

  const selection: ReplayRequestBody['selection'] = {};
  const ids = one('conversations');
  if (ids !== undefined) {
    const text = ids.startsWith('@') ? readFile(ids.slice(1)) : ids;
    selection.conversationIds = text
      .split(/[\s,]+/)
      .map((id) => id.trim())
      .filter(Boolean);
    if (selection.conversationIds.length === 0) throw new UsageError('--conversations names no conversation');
  }
  for (const [flag, key] of [
    ['user', 'userId'],
    ['since', 'since'],
    ['until', 'until'],
    ['query', 'query'],
  ] as const) {
    const value = one(flag);
    if (value !== undefined) selection[key] = value;
  }
  if (Object.keys(selection).length === 0) {
    throw new UsageError('name the conversations: --conversations, or --user / --since / --until / --query');
  }

  const arms = (values.get('arm') ?? []).map(parseArm);
  if (arms.length === 0) throw new UsageError('give at least one --arm model=NAME');
  const mode = one('mode') ?? 'pinned';
  if (mode !== 'pinned' && mode !== 'trajectory') throw new UsageError('--mode is pinned or trajectory');
  const judge = one('judge');

  const limits: NonNullable<ReplayRequestBody['limits']> = {};
  const concurrency = one('concurrency');
  if (concurrency !== undefined) limits.concurrency = integer('concurrency', concurrency);
  const max = one('max');
  if (max !== undefined) limits.maxConversations = integer('max', max);
  const maxTurns = one('max-turns');
  if (maxTurns !== undefined) limits.maxTurnsPerConversation = integer('max-turns', maxTurns);
  const perRun = one('conversations-per-run');
  if (perRun !== undefined) limits.conversationsPerRun = integer('conversations-per-run', perRun);
  const providers = (values.get('provider-limit') ?? []).map(parseProviderLimit);
  if (providers.length > 0) limits.providers = providers;

  const idempotencyKey = one('idempotency-key');
  return {
    command: {
      kind: 'start',
      body: {
        selection,
        arms,
        mode,
        ...(judge !== undefined ? { judge: parseJudge(judge) } : {}),
        ...(Object.keys(limits).length > 0 ? { limits } : {}),
      },
      wait: !switches.has('no-wait'),
      ...(report ? { report } : {}),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    },
    ...connection,
  };
}

/** `key=value,key=value`; `tail` (when present) takes the rest of the spec, commas included. */
function specPairs(flag: string, spec: string, tail?: string): Map<string, string> {
  const pairs = new Map<string, string>();
  let rest = spec;
  while (rest.length > 0) {
    const [pair, more] = tail && rest.startsWith(`${tail}=`) ? [rest, undefined] : splitOnce(rest, ',');
    const [key, value] = splitOnce(pair, '=');
    if (value === undefined || key === '') throw new UsageError(`--${flag}: "${pair}" is not key=value`);
    if (pairs.has(key)) throw new UsageError(`--${flag}: ${key} given twice`);
    pairs.set(key, value);
    rest = more ?? '';
  }
  return pairs;
}

function parseArm(spec: string): ReplayRequestBody['arms'][number] {
  const pairs = specPairs('arm', spec, 'prompt');
  const unknown = [...pairs.keys()].find((key) => !['model', 'label', 'retrieval', 'web', 'prompt'].includes(key));
  if (unknown) throw new UsageError(`--arm: unknown key ${unknown}`);
  const model = pairs.get('model');
  if (!model) throw new UsageError('--arm needs model=NAME');
  const prompt = pairs.get('prompt');
  return {
    model,
    ...(pairs.has('label') ? { label: pairs.get('label')! } : {}),
    ...(prompt !== undefined ? { systemPrompt: prompt === 'none' ? null : prompt } : {}),
    ...(pairs.has('retrieval') ? { retrieval: onOff('arm retrieval', pairs.get('retrieval')!) } : {}),
    ...(pairs.has('web') ? { webSearch: onOff('arm web', pairs.get('web')!) } : {}),
  };
}

function parseJudge(spec: string): NonNullable<ReplayRequestBody['judge']> {
  const pairs = specPairs('judge', spec, 'rubric');
  const unknown = [...pairs.keys()].find((key) => !['model', 'against', 'seed', 'rubric'].includes(key));
  if (unknown) throw new UsageError(`--judge: unknown key ${unknown}`);
  const model = pairs.get('model');
  if (!model) throw new UsageError('--judge needs model=NAME');
  const against = pairs.get('against');
  if (against !== undefined && against !== 'original' && against !== 'first-arm') {
    throw new UsageError('--judge against is original or first-arm');
  }
  return {
    model,
    ...(against !== undefined ? { against } : {}),
    ...(pairs.has('seed') ? { seed: integer('judge seed', pairs.get('seed')!) } : {}),
    ...(pairs.has('rubric') ? { rubric: pairs.get('rubric')! } : {}),
  };
}

function parseProviderLimit(spec: string): NonNullable<NonNullable<ReplayRequestBody['limits']>['providers']>[number] {
  const [name, rest] = splitOnce(spec, ',');
  if (!name) throw new UsageError('--provider-limit needs a provider name');
  const pairs = specPairs('provider-limit', rest ?? '');
  const unknown = [...pairs.keys()].find((key) => !['concurrency', 'rps'].includes(key));
  if (unknown) throw new UsageError(`--provider-limit: unknown key ${unknown}`);
  const rps = pairs.get('rps');
  if (rps !== undefined && !(Number(rps) > 0)) throw new UsageError('--provider-limit rps must be a positive number');
  return {
    name,
    ...(pairs.has('concurrency')
      ? { concurrency: integer('provider-limit concurrency', pairs.get('concurrency')!) }
      : {}),
    ...(rps !== undefined ? { requestsPerSecond: Number(rps) } : {}),
  };
}

function reportFormat(value: string | undefined): ReportFormat | undefined {
  if (value === undefined) return undefined;
  if (value !== 'md' && value !== 'json' && value !== 'csv') throw new UsageError('--report is md, json or csv');
  return value;
}

function onOff(what: string, value: string): boolean {
  if (value === 'on' || value === 'true') return true;
  if (value === 'off' || value === 'false') return false;
  throw new UsageError(`--${what} is on or off`);
}

/** A whole number as typed; the API checks the range and says so. */
function integer(flag: string, value: string): number {
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--${flag} must be a whole number`);
  return Number(value);
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}
