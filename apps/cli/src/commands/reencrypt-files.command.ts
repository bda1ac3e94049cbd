import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import {
  REENCRYPT_FILES_WORKFLOW,
  REENCRYPT_PROGRESS_QUERY,
  reencryptWorkflowId,
  type ReencryptFilesInput,
  type ReencryptProgress,
} from '#libs/contracts/reencrypt.contract';
import { CommandError, type Command } from '../command';
import { followRun } from '../follow-run';

function describe(progress: ReencryptProgress): string {
  return `${progress.status}: ${progress.seen} file(s) seen, ${counts(progress)}`;
}

function counts(progress: ReencryptProgress): string {
  return `${progress.rewritten} rewritten, ${progress.rewrapped ?? 0} re-wrapped, ${progress.current} already current, ${progress.failed} failed`;
}

export const reencryptFilesCommand: Command = {
  name: 'reencrypt-files',
  summary: 'bring every file under the current FILES_ENCRYPTION_KEYS key (a workflow, with progress)',
  help: [
    'usage: gigachat reencrypt-files [--detach | --status]',
    '',
    `Starts the ${REENCRYPT_FILES_WORKFLOW} workflow (id reencrypt-files:<ingest task queue>) and follows its`,
    'progress until it ends. Every ready file is brought under the first key of FILES_ENCRYPTION_KEYS: an object',
    'stored clear (before encryption) is streamed out and back in sealed; one sealed under an older master key',
    'keeps its bytes and gets its data key re-wrapped (a small <object>.key beside it). Run it after turning',
    'encryption on, and after putting a new key first (restart the workers first) and before removing the old',
    'one. A run already going on is followed, not started twice.',
    '',
    '  --detach   start it and return (follow it in the Temporal UI, or with --status)',
    '  --status   show the progress of the current or last run and return',
  ].join('\n'),
  options: { detach: { type: 'boolean' }, status: { type: 'boolean' } },
  needsConfig: true,
  async run(input, context) {
    const temporal = await context.temporal();
    const workflowId = reencryptWorkflowId(context.config.temporal.ingestTaskQueue);
    let handle: WorkflowHandle;
    if (input.options.status === true) {
      handle = temporal.workflow.getHandle(workflowId);
      const progress = await handle.query<ReencryptProgress>(REENCRYPT_PROGRESS_QUERY).catch(() => {
        throw new CommandError('no re-encryption has run (or its history is gone)');
      });
      input.out(describe(progress));
      return;
    }
    const args: ReencryptFilesInput = { requestedBy: 'cli' };
    try {
      const started = await temporal.workflow.start(REENCRYPT_FILES_WORKFLOW, {
        workflowId,
        taskQueue: context.config.temporal.ingestTaskQueue,
        args: [args],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        memo: { summary: 're-encrypt files under the current key, started from the operator CLI' },
      });
      input.out(`started ${workflowId} (run ${started.firstExecutionRunId})`);
      handle = started;
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      handle = temporal.workflow.getHandle(workflowId);
      input.out('a re-encryption is already running; following it');
    }
    if (input.options.detach === true) return;
    const final = await followRun(handle, REENCRYPT_PROGRESS_QUERY, describe, input.out);
    for (const failure of final.failures) input.out(`  failed: file ${failure.fileId}: ${failure.reason}`);
    input.out(`done: ${counts(final)}`);
  },
};
