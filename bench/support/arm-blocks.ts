import { addUp, type ModeRun } from './alternating-blocks';
import { CpuMeter } from './cpu';
import { runLanes } from './lanes';

/** One arm of a comparison: its turn, the processes whose CPU it measures, and what to do around each block. */
export interface Arm<T> {
  name: string;
  turn: (lane: number, index: number) => Promise<T>;
  pids: Record<string, number>;
  /** Before each of the arm's blocks, outside the CPU window (start scraping, …). */
  before?: () => Promise<void> | void;
  /**
   * After the block's turns, inside its CPU window (wait for buffered spans to be exported, …): work the arm caused
   * that finishes after its last turn is still its own. Throughput and the machine's busy share count the turns' wall
   * time only.
   */
  settle?: () => Promise<void>;
  /** After the CPU window closed (stop scraping, …). */
  after?: () => Promise<void> | void;
}

/** One arm's blocks added up, and each block's throughput (how much the same arm varies from block to block). */
export interface ArmRun<T> extends ModeRun<T> {
  blockTurnsPerSecond: number[];
}

export interface ArmBlockOptions {
  /** Turns per arm, split into `blocks` blocks. */
  turns: number;
  blocks: number;
  concurrency: number;
  signal: AbortSignal;
}

/**
 * Runs any number of arms' turns in blocks, in order and then in reverse (A B C, C B A, A B C, …), each block measured
 * on its own and added up per arm: over each pair of blocks every arm sits at the same mean position, so a drift of
 * the machine hits them alike. Turn numbers run on across an arm's blocks.
 */
export async function runArmBlocks(
  options: ArmBlockOptions,
  arms: readonly Arm<unknown>[],
): Promise<ArmRun<unknown>[]> {
  const runs: ModeRun<unknown>[][] = arms.map(() => []);
  const perBlock = Math.ceil(options.turns / options.blocks);
  for (let block = 0; block * perBlock < options.turns; block++) {
    const size = Math.min(perBlock, options.turns - block * perBlock);
    const offset = block * perBlock;
    const order = arms.map((_, i) => i);
    if (block % 2 === 1) order.reverse();
    for (const i of order) {
      const arm = arms[i];
      if (!arm) continue;
      await arm.before?.();
      try {
        const cpu = new CpuMeter(arm.pids).start();
        const machine = new CpuMeter({}).start();
        const lanes = { total: size, lanes: Math.min(options.concurrency, size), signal: options.signal };
        const run = await runLanes(lanes, (lane, index) => arm.turn(lane, offset + index));
        const busy = machine.stop();
        await arm.settle?.();
        const used = cpu.stop();
        runs[i]?.push({ run, cpu: { ...used, wallS: busy.wallS, machineBusyPct: busy.machineBusyPct } });
      } finally {
        await arm.after?.();
      }
    }
  }
  return runs.map((blocks) => ({
    ...addUp(blocks),
    blockTurnsPerSecond: blocks.map(
      (block) => Math.round((block.run.samples.length / (block.run.wallMs / 1000)) * 10) / 10,
    ),
  }));
}
