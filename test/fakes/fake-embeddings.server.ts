/**
 * A fake OpenAI-compatible embeddings API (`POST /v1/embeddings`, the real wire format) whose vectors carry a little
 * meaning, so that retrieval quality can be measured without a model: words are lower-cased, stop words dropped,
 * lightly stemmed, mapped through a small synonym table to shared concepts (car/automobile/vehicle → one feature),
 * then feature-hashed with a sign into `dimensions` buckets and L2-normalised. Paraphrases that share no word with a
 * passage still land near it when their words share concepts — which is what hybrid retrieval should exploit.
 *
 * `featureHashEmbedding` is exported so a benchmark can compute the same query vectors without HTTP.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listen } from './http-server';

export const FAKE_EMBEDDING_DIMENSIONS = 384;

/** Words that mean the same thing here; each group becomes one feature. Sized for test/fixtures/retrieval. */
const CONCEPTS: string[][] = [
  ['car', 'automobile', 'vehicle', 'auto', 'motor'],
  ['buy', 'purchase', 'acquire', 'bought', 'purchasing'],
  ['house', 'home', 'residence', 'dwelling', 'property', 'homeowner'],
  ['doctor', 'physician', 'clinician', 'gp', 'medic'],
  ['checkup', 'examination', 'exam', 'physical', 'appointment'],
  ['bread', 'loaf', 'dough', 'sourdough'],
  ['bake', 'oven', 'baking'],
  ['plant', 'houseplant', 'greenery', 'foliage'],
  ['water', 'watering', 'irrigate', 'moisture', 'hydrate'],
  ['run', 'running', 'jog', 'jogging', 'marathon', 'runner'],
  ['train', 'training', 'practice', 'workout', 'exercise'],
  ['python', 'pip', 'virtualenv', 'venv'],
  ['dependency', 'package', 'library', 'module'],
  ['coffee', 'espresso', 'brew', 'java'],
  ['dog', 'puppy', 'canine', 'pup', 'hound'],
  ['obedience', 'command', 'behave', 'behaviour', 'behavior'],
  ['solar', 'photovoltaic', 'sun', 'sunlight', 'sunny'],
  ['electricity', 'power', 'energy', 'kilowatt'],
  ['budget', 'spending', 'expense', 'cost', 'money', 'finance', 'afford'],
  ['save', 'saving', 'savings', 'thrift'],
  ['passport', 'visa', 'travel', 'abroad', 'trip'],
  ['renew', 'renewal', 'replace', 'expired', 'expire'],
  ['sleep', 'insomnia', 'rest', 'bedtime', 'nap', 'asleep'],
  ['bicycle', 'bike', 'cycling', 'cyclist'],
  ['flat', 'puncture', 'leak', 'deflated'],
  ['tire', 'tyre', 'tube', 'wheel'],
  ['tax', 'taxes', 'irs', 'deduction', 'deductible'],
  ['wedding', 'marriage', 'ceremony', 'bride', 'groom', 'marry'],
  ['move', 'moving', 'relocate', 'relocation', 'movers'],
  ['apartment', 'flat', 'rental', 'lease', 'tenant'],
  ['job', 'career', 'employer', 'hiring', 'position'],
  ['interview', 'recruiter', 'candidate'],
  ['kubernetes', 'k8s', 'cluster', 'pod', 'container'],
  ['deploy', 'deployment', 'release', 'rollout', 'ship'],
  ['database', 'sql', 'mysql', 'postgres', 'table'],
  ['index', 'indexes', 'indices', 'lookup'],
  ['slow', 'performance', 'latency', 'speed', 'fast', 'quick'],
  ['burn', 'scald', 'blister'],
  ['injury', 'wound', 'hurt', 'aid'],
  ['camp', 'camping', 'tent', 'outdoors', 'wilderness', 'hike', 'hiking'],
  ['language', 'spanish', 'vocabulary', 'grammar', 'fluent', 'fluency'],
  ['learn', 'study', 'lesson', 'course'],
  ['glacier', 'ice', 'icecap', 'snowpack'],
  ['climate', 'warming', 'temperature', 'heat'],
  ['electric', 'ev', 'battery', 'charging', 'charger', 'charge'],
  ['password', 'passphrase', 'credential', 'login'],
  ['security', 'secure', 'safe', 'hacker', 'attack', 'breach', 'protect'],
  ['insurance', 'insurer', 'policy', 'coverage', 'premium', 'claim'],
  ['flood', 'storm', 'damage', 'disaster'],
  ['garden', 'gardening', 'vegetable', 'tomato', 'tomatoes', 'crop', 'grow'],
  ['soil', 'compost', 'fertilizer', 'manure'],
  ['vaccine', 'vaccination', 'immunization', 'immunisation', 'shot', 'jab', 'booster'],
  ['child', 'children', 'kid', 'kids', 'toddler', 'infant', 'baby'],
  ['mortgage', 'loan', 'lender', 'borrow', 'bank'],
  ['oil', 'lubricant'],
  ['engine', 'motor'],
  ['git', 'branch', 'merge', 'rebase', 'commit', 'repository'],
];

const STOP_WORDS = new Set(
  (
    'a an the and or but if of to in on at by for with from as is are was were be been being it its this that these ' +
    'those i you he she we they me my your our their what which who whom how when where why do does did can could ' +
    'should would will shall may might must have has had not no so than then there here about into over under up ' +
    'down out off just also very more most some any each every all both few other such only own same too'
  ).split(' '),
);

/** Strips the commonest English suffixes; crude but stable, and applied the same way to words and the table. */
export function lightStem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ed')) return word.slice(0, -2);
  if (word.length > 4 && /(?:s|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

const CONCEPT_OF = new Map<string, string>();
CONCEPTS.forEach((group, index) => {
  for (const word of group) {
    const stem = lightStem(word);
    if (!CONCEPT_OF.has(stem)) CONCEPT_OF.set(stem, `concept:${index}`);
  }
});

/** The features of a text: a concept id where the table knows the word, else the stem itself. */
export function textFeatures(text: string): string[] {
  const features: string[] = [];
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const word = match[0];
    if (word.length < 2 || STOP_WORDS.has(word)) continue;
    const stem = lightStem(word);
    features.push(CONCEPT_OF.get(stem) ?? `word:${stem}`);
  }
  return features;
}

/** Deterministic, L2-normalised; each feature adds ±1 to one bucket (FNV-1a hash, sign from a high bit). */
export function featureHashEmbedding(text: string, dimensions = FAKE_EMBEDDING_DIMENSIONS): Float32Array {
  const vector = new Float32Array(dimensions);
  for (const feature of textFeatures(text)) {
    const hash = fnv1a(feature);
    vector[hash % dimensions]! += hash & 0x80000000 ? -1 : 1;
  }
  let sum = 0;
  for (const value of vector) sum += value * value;
  if (sum === 0) {
    vector[0] = 1; // nothing meaningful: a fixed vector rather than zeros, as a real model would answer
    return vector;
  }
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < dimensions; i++) vector[i] = vector[i]! * scale;
  return vector;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export type FakeEmbeddingsFailure = 500 | 401;

export interface FakeEmbeddingsOptions {
  /** Every request fails with this status (OpenAI's error body) until `setFailure()` changes it. */
  failWith?: FakeEmbeddingsFailure;
  /** Delay before each answer. */
  delayMs?: number;
}

export interface FakeEmbeddingsRequest {
  model: unknown;
  inputs: number;
  /** The texts asked for, in order (a crash test counts how often each chunk was embedded). */
  texts: string[];
  /** True once the vectors were sent back (false while the request waits out `delayMs`, or when it failed). */
  answered: boolean;
  dimensions?: number;
  authorization?: string;
}

export interface FakeEmbeddings {
  /** Base URL ending in `/v1`, as the SDK's `baseURL` expects. */
  url: string;
  requests: FakeEmbeddingsRequest[];
  setFailure(failWith?: FakeEmbeddingsFailure): void;
  close(): Promise<void>;
}

export async function startFakeEmbeddings(options: FakeEmbeddingsOptions = {}): Promise<FakeEmbeddings> {
  let failWith = options.failWith;
  const requests: FakeEmbeddingsRequest[] = [];
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, error instanceof Error ? error.message : String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/embeddings') {
      return sendError(res, 404, `No route ${req.method} ${req.url}`);
    }
    let body: { input?: unknown; model?: unknown; dimensions?: unknown };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return sendError(res, 400, 'The body is not JSON');
    }
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    const dimensions = body.dimensions === undefined ? FAKE_EMBEDDING_DIMENSIONS : body.dimensions;
    const recorded: FakeEmbeddingsRequest = {
      model: body.model,
      inputs: Array.isArray(inputs) ? inputs.length : 0,
      texts: Array.isArray(inputs) ? inputs.filter((input): input is string => typeof input === 'string') : [],
      answered: false,
      ...(typeof body.dimensions === 'number' ? { dimensions: body.dimensions } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    };
    requests.push(recorded);
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    if (failWith === 401) return sendError(res, 401, 'Incorrect API key provided', 'invalid_api_key');
    if (failWith === 500) return sendError(res, 500, 'The server had an error processing your request');
    if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((input) => typeof input === 'string')) {
      return sendError(res, 400, "'input' must be a string or a non-empty array of strings");
    }
    if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > 4096) {
      return sendError(res, 400, "'dimensions' must be an integer from 1 to 4096");
    }
    const texts = inputs;
    const tokens = texts.reduce((sum, text) => sum + Math.max(1, text.split(/\s+/).filter(Boolean).length), 0);
    send(res, 200, {
      object: 'list',
      data: texts.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: Array.from(featureHashEmbedding(text, dimensions)),
      })),
      model: typeof body.model === 'string' ? body.model : 'fake-embedding',
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
    recorded.answered = true;
  }

  const baseUrl = await listen(server, 0, '127.0.0.1');
  return {
    url: `${baseUrl}/v1`,
    requests,
    setFailure(next?: FakeEmbeddingsFailure) {
      failWith = next;
    },
    close: () => closeServer(server),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, code: string | null = null): void {
  const type = status === 401 ? 'invalid_request_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  send(res, status, { error: { message, type, param: null, code } });
}
