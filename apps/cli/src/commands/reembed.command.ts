import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import {
  REEMBED_FILES_WORKFLOW,
  REEMBED_PROGRESS_QUERY,
  reembedWorkflowId,
  type ReembedFilesInput,
  type ReembedProgress,
} from '#libs/contracts/maintenance.contract';
import { CommandError, type Command } from '../command';
import { followRun } from '../follow-run';

function describe(progress: ReembedProgress): string {
  const percent = progress.total > 0 ? Math.floor((100 * (progress.done + progress.failed)) / progress.total) : 100;
  return `${progress.status}: ${progress.done + progress.failed}/${progress.total} files (${percent} %), ${progress.failed} failed, model ${progress.model}`;
}

export const reembedCommand: Command = {
  name: 'reembed',
  summary: 're-embed every file with the configured EMBEDDING_MODEL (a workflow, with progress)',
  help: [
    'usage: gigachat reembed [--all] [--detach | --status]',
    '',
    `Starts the ${REEMBED_FILES_WORKFLOW} workflow (id reembed-files:<ingest task queue>) and follows its`,
    'progress until it ends. It brings every ready file embedded with another model (or none) to the model the',
    'workers are configured with: run it after changing EMBEDDING_MODEL and restarting the workers. A run already',
    'going on is followed, not started twice. Files that fail are listed; the run goes on without them.',
    '',
    '  --all      re-embed every ready file, even those already on the configured model',
    '  --detach   start it and return (follow it in the Temporal UI, or with --status)',
    '  --status   show the progress of the current or last run and return',
  ].join('\n'),
  options: { all: { type: 'boolean' }, detach: { type: 'boolean' }, status: { type: 'boolean' } },
  needsConfig: true,
  async run(input, context) {
    const temporal = await context.temporal();
    const workflowId = reembedWorkflowId(context.config.temporal.ingestTaskQueue);
    let handle: WorkflowHandle;
    if (input.options.status === true) {
      handle = temporal.workflow.getHandle(workflowId);
      const progress = await handle.query<ReembedProgress>(REEMBED_PROGRESS_QUERY).catch(() => {
        throw new CommandError('no re-embedding has run (or its history is gone)');
      });
      input.out(describe(progress));
      return;
    }
    const args: ReembedFilesInput = { all: input.options.all === true, requestedBy: 'cli' };
    try {
      const started = await temporal.workflow.start(REEMBED_FILES_WORKFLOW, {
        workflowId,
        taskQueue: context.config.temporal.ingestTaskQueue,
        args: [args],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        memo: { summary: `re-embed files${args.all ? ' (all)' : ''}, started from the operator CLI` },
      });
      input.out(`started ${workflowId} (run ${started.firstExecutionRunId})`);
      handle = started;
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      handle = temporal.workflow.getHandle(workflowId);
      input.out(`a re-embedding is already running; following it`);
    }
    if (input.options.detach === true) return;
    const final = await followRun(handle, REEMBED_PROGRESS_QUERY, describe, input.out);
    for (const failure of final.failures) input.out(`  failed: file ${failure.fileId}: ${failure.reason}`);
    input.out(`done: ${final.done} file(s) re-embedded with ${final.model}, ${final.failed} failed`);
  },
};
