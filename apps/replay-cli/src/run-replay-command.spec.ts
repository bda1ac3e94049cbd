import { ApiError, type ReplayApiClient, type ReplayState } from './replay-api-client';
import { EXIT, runReplayCommand } from './run-replay-command';

const state = (status: ReplayState['status'], failed = 0): ReplayState => ({
  id: 'r-1',
  status,
  error: status === 'failed' ? { code: 'replay_failed', detail: 'Every conversation failed' } : null,
  progress: {
    conversations: { total: 2, done: 2 - failed, failed, cancelled: 0, running: 0, pending: 0 },
    turns: { done: 4, failed },
    tokens: { prompt: 10, completion: 5 },
    etaSeconds: 0,
  },
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => err.push(t) },
      sleep: async () => undefined,
      signal: new AbortController().signal,
    },
  };
}

const client = (states: ReplayState[], over: Partial<Record<keyof ReplayApiClient, jest.Mock>> = {}) => {
  const queue = [...states];
  return {
    create: jest.fn(async () => queue.shift()!),
    get: jest.fn(async () => queue.shift() ?? states.at(-1)!),
    report: jest.fn(async () => '# Replay r-1\n'),
    ...over,
  } as unknown as ReplayApiClient;
};

const start = { kind: 'start' as const, wait: true, body: { selection: {}, arms: [], mode: 'pinned' as const } };

describe('running a replay command', () => {
  it('starts, follows until the end, prints the report, exits 0', async () => {
    const { io: streams, out, err } = io();
    const api = client([state('queued'), state('running'), state('completed')]);
    expect(await runReplayCommand({ ...start, report: 'md' }, api, streams)).toBe(EXIT.ok);
    expect(out.join('')).toBe('# Replay r-1\n');
    expect(err.join('')).toContain('replay r-1 completed');
  });

  it('exits 1 when conversations failed or the replay failed or was cancelled', async () => {
    expect(await runReplayCommand(start, client([state('running'), state('completed', 1)]), io().io)).toBe(
      EXIT.batchFailed,
    );
    const failed = io();
    expect(await runReplayCommand(start, client([state('running'), state('failed', 2)]), failed.io)).toBe(
      EXIT.batchFailed,
    );
    expect(failed.err.join('')).toContain('replay r-1 failed: Every conversation failed');
    expect(await runReplayCommand(start, client([state('running'), state('cancelled')]), io().io)).toBe(
      EXIT.batchFailed,
    );
  });

  it('exits 2 when the API refuses the request, naming the fields', async () => {
    const { io: streams, err } = io();
    const api = client([], {
      create: jest.fn(async () => {
        throw new ApiError(400, 'validation_failed', 'The request is not valid', [
          { field: 'arms.0.model', message: 'is not served' },
        ]);
      }),
    });
    expect(await runReplayCommand(start, api, streams)).toBe(EXIT.refused);
    expect(err.join('')).toBe(
      'refused: 400 validation_failed: The request is not valid (arms.0.model is not served)\n',
    );
  });

  it('prints the id and returns at once without --wait; keeps following through a few failed polls', async () => {
    const started = io();
    expect(await runReplayCommand({ ...start, wait: false }, client([state('queued')]), started.io)).toBe(EXIT.ok);
    expect(started.out).toEqual(['r-1\n']);

    let polls = 0;
    const flaky = client([state('running')], {
      get: jest.fn(async () => {
        polls += 1;
        if (polls === 1) return state('running');
        if (polls < 4) throw new Error('ECONNREFUSED');
        return state('completed');
      }),
    });
    expect(await runReplayCommand({ kind: 'follow', replayId: 'r-1' }, flaky, io().io)).toBe(EXIT.ok);
  });
});
