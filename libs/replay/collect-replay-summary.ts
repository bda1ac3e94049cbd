import type { ReplayArm } from '../contracts/replay.contract';
import type { ReplaySummaryRow } from '../db/repositories/replay.repository';
import { ReplaySummaryBuilder, type ReplaySummary } from './replay-summary';

/** Results read per query while summing up (a replay of 10 000 conversations has tens of thousands). */
const SUMMARY_PAGE = 5000;

/** Where the results come from: the replay repository, or a fake of it. */
export interface SummaryRowSource {
  summaryRows(replayId: string, afterId: string | undefined, limit: number): Promise<ReplaySummaryRow[]>;
}

/**
 * A replay's summary from its stored results, read a page at a time: what the workflow stores when the replay ends,
 * and what the API reports while it runs.
 */
export async function collectReplaySummary(
  source: SummaryRowSource,
  replayId: string,
  arms: readonly Pick<ReplayArm, 'index' | 'label' | 'model'>[],
): Promise<ReplaySummary> {
  const builder = new ReplaySummaryBuilder(arms);
  let afterId: string | undefined;
  for (;;) {
    const rows = await source.summaryRows(replayId, afterId, SUMMARY_PAGE);
    for (const row of rows) builder.add(row);
    if (rows.length < SUMMARY_PAGE) break;
    afterId = rows.at(-1)!.id;
  }
  return builder.result();
}
