import type { WorkflowHandle } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { typedFailureOf } from '#libs/contracts/temporal-failure';
import { CommandError } from './command';

/**
 * Prints a batch run's progress (its query, whenever the line changes) until the run — and every run it continued
 * as — completes; answers its result. A failed run becomes a CommandError with the failure's own message.
 */
export async function followRun<Progress>(
  handle: WorkflowHandle,
  query: string,
  describe: (progress: Progress) => string,
  out: (line: string) => void,
  intervalMs = 1000,
): Promise<Progress> {
  let settled = false;
  const result = (handle.result() as Promise<Progress>).finally(() => {
    settled = true;
  });
  const stop = result.then(
    () => undefined,
    () => undefined,
  );
  let last = '';
  while (!settled) {
    try {
      const line = describe(await handle.query<Progress>(query));
      if (line !== last) out(line);
      last = line;
    } catch {
      // Between two runs of a chain (continue-as-new), or before the first workflow task: ask again shortly.
    }
    await Promise.race([stop, sleep(intervalMs)]);
  }
  try {
    return await result;
  } catch (error) {
    const failure = typedFailureOf(error);
    throw new CommandError(`${handle.workflowId} failed: ${failure?.message ?? (error as Error).message}`);
  }
}
