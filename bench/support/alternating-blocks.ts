import { CpuMeter, type CpuReport } from './cpu';
import { type LaneRun, runLanes } from './lanes';

export interface ModeRun<T> {
  run: LaneRun<T>;
  cpu: CpuReport;
}

type Turn<T> = (lane: number, index: number) => Promise<T>;

export interface AlternatingOptions {
  turns: number;
  blocks: number;
  concurrency: number;
  signal: AbortSignal;
  /** Processes whose CPU time each block measures. */
  pids: Record<string, number>;
}

/**
 * Runs two modes' turns in alternating blocks (first, second, second, first, …), each block measured on its own, and
 * adds the blocks up per mode: machine drift, a warming database and other jobs on the box hit both modes alike
 * instead of whichever ran second. Turn numbers run on across blocks, so every turn of a mode is distinct.
 */
export async function alternate<A, B>(
  options: AlternatingOptions,
  first: Turn<A>,
  second: Turn<B>,
): Promise<[ModeRun<A>, ModeRun<B>]> {
  const [firsts, seconds] = await alternateBlocks(options, first, second);
  return [addUp(firsts), addUp(seconds)];
}

/**
 * {@link alternate}, block by block: block `i` of one mode ran next to block `i` of the other, so the pairs can be
 * compared one by one (a stall in one block then moves one pair, not the whole figure).
 */
export async function alternateBlocks<A, B>(
  options: AlternatingOptions,
  first: Turn<A>,
  second: Turn<B>,
): Promise<[ModeRun<A>[], ModeRun<B>[]]> {
  const firsts: ModeRun<A>[] = [];
  const seconds: ModeRun<B>[] = [];
  const perBlock = Math.ceil(options.turns / options.blocks);
  for (let block = 0; block * perBlock < options.turns; block++) {
    const size = Math.min(perBlock, options.turns - block * perBlock);
    const offset = block * perBlock;
    const runBlock = async <T>(turn: Turn<T>): Promise<ModeRun<T>> => {
      const cpu = new CpuMeter(options.pids).start();
      const lanes = { total: size, lanes: Math.min(options.concurrency, size), signal: options.signal };
      const run = await runLanes(lanes, (lane, index) => turn(lane, offset + index));
      return { run, cpu: cpu.stop() };
    };
    if (block % 2 === 1) seconds.push(await runBlock(second));
    firsts.push(await runBlock(first));
    if (block % 2 === 0) seconds.push(await runBlock(second));
  }
  return [firsts, seconds];
}

/** One mode's blocks as one run: samples and failures together, wall and CPU time summed. */
export function addUp<T>(blocks: ModeRun<T>[]): ModeRun<T> {
  const wallS = blocks.reduce((sum, block) => sum + block.cpu.wallS, 0);
  const busy = blocks.reduce((sum, block) => sum + block.cpu.machineBusyPct * block.cpu.wallS, 0);
  const cpuS: Record<string, number> = {};
  for (const { cpu } of blocks) {
    for (const [name, s] of Object.entries(cpu.cpuS)) cpuS[name] = round2((cpuS[name] ?? 0) + s);
  }
  return {
    run: {
      samples: blocks.flatMap((block) => block.run.samples),
      failures: blocks.flatMap((block) => block.run.failures),
      wallMs: blocks.reduce((sum, block) => sum + block.run.wallMs, 0),
    },
    cpu: {
      wallS: round2(wallS),
      machineBusyPct: wallS > 0 ? Math.round((busy / wallS) * 10) / 10 : NaN,
      cores: blocks[0]?.cpu.cores ?? 0,
      cpuS,
    },
  };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
