import { duration, ProgressDisplay, progressBar, progressLine } from './progress-display';
import type { ReplayState } from './replay-api-client';

const state = (done: number, over: Partial<ReplayState['progress']['conversations']> = {}): ReplayState => ({
  id: 'r-1',
  status: 'running',
  error: null,
  progress: {
    conversations: { total: 40, done, failed: 0, cancelled: 0, running: 2, pending: 40 - done, ...over },
    turns: { done: done * 5, failed: 1 },
    tokens: { prompt: 900, completion: 100 },
    etaSeconds: 125,
  },
});

describe('replay progress display', () => {
  it('says where a replay stands in one line, and draws a bar for a terminal', () => {
    expect(duration(7)).toBe('7s');
    expect(duration(125)).toBe('2m 05s');
    expect(duration(3720)).toBe('1h 02m');
    expect(progressLine(state(10, { failed: 2 }))).toBe(
      'running · conversations 12/40 · failed 2 · answers 50 (+1 failed) · tokens 1000 · ETA 2m 05s',
    );
    expect(progressBar(state(20))).toMatch(/^\[#{12}-{12}\] {2}50% running · conversations 20\/40/);
  });

  it('redraws one line in place on a terminal, cut to its width', () => {
    const written: string[] = [];
    const display = new ProgressDisplay({ write: (t) => written.push(t), isTTY: true, columns: 60 });
    display.update(state(1));
    display.update(state(1));
    display.update(state(2));
    display.finish({ ...state(40), status: 'completed' });
    expect(written.filter((t) => t.startsWith('\r\x1b[2K'))).toHaveLength(3);
    expect(written.every((t) => t.replace('\r\x1b[2K', '').length <= 59)).toBe(true);
    expect(written.at(-1)).toBe('\n');
  });

  it('writes plain lines elsewhere: on change, at most every few seconds, and always the last one', () => {
    let now = 0;
    const written: string[] = [];
    const display = new ProgressDisplay({ write: (t) => written.push(t) }, 5000, () => now);
    display.update(state(1));
    now = 1000;
    display.update(state(2)); // too soon
    now = 6000;
    display.update(state(3));
    display.finish({ ...state(40), status: 'completed' });
    expect(written.map((t) => t.split(' · ')[1])).toEqual([
      'conversations 1/40',
      'conversations 3/40',
      'conversations 40/40',
    ]);
    expect(written.join('')).not.toContain('\x1b');
  });
});
