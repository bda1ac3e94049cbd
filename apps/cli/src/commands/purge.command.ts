import { randomUUID } from 'node:crypto';
import {
  PURGE_DATA_WORKFLOW,
  PURGE_PROGRESS_QUERY,
  purgeWorkflowId,
  type PurgeDataInput,
  type PurgeProgress,
  type PurgeTarget,
} from '#libs/contracts/maintenance.contract';
import { CommandError, integerOption, stringOption, UsageError, type Command } from '../command';
import { followRun } from '../follow-run';
import { confirm, normalisedEmail } from '../operator-input';

const DAY_MS = 86_400_000;

function describe(progress: PurgeProgress): string {
  return `${progress.status}: ${progress.files} file(s), ${progress.conversations} conversation(s) removed${progress.accountDeleted ? ', account deleted' : ''}`;
}

export const purgeCommand: Command = {
  name: 'purge',
  summary: 'delete conversations and files older than N days, or everything of a disabled user (a workflow)',
  help: [
    'usage: gigachat purge --older-than <days> [--yes] [--detach]',
    '       gigachat purge --user <email> [--yes] [--detach]',
    '       gigachat purge --status <purge id>',
    '',
    `Starts the ${PURGE_DATA_WORKFLOW} workflow (id purge:<purge id>, on the ingest task queue) and follows it:`,
    '  --older-than <days>  every conversation last active, and every file uploaded, more than <days> days ago,',
    '                       whoever owns it (shared conversations included)',
    '  --user <email>       everything the account owns (files with their bytes, conversations), then the account;',
    '                       it must be disabled first (gigachat disable-user), which ends its sessions',
    'Files go with their stored bytes, chunks and vectors; conversations with their messages, shares and feedback.',
    'Each removal is audited (file.purged, conversation.purged, user.purged), the request and the outcome too',
    '(purge.requested, purge.completed). This cannot be undone.',
    '',
    '  --yes       do not ask for confirmation',
    '  --detach    start it and return',
    '  --status    show a purge’s progress and return',
  ].join('\n'),
  options: {
    'older-than': { type: 'string' },
    user: { type: 'string' },
    yes: { type: 'boolean' },
    detach: { type: 'boolean' },
    status: { type: 'string' },
  },
  needsConfig: true,
  async run(input, context) {
    const status = stringOption(input, 'status');
    if (status !== undefined) {
      const handle = (await context.temporal()).workflow.getHandle(purgeWorkflowId(status));
      const progress = await handle.query<PurgeProgress>(PURGE_PROGRESS_QUERY).catch(() => {
        throw new CommandError(`no purge ${status} (or its history is gone)`);
      });
      input.out(describe(progress));
      return;
    }
    const days = integerOption(input, 'older-than', { min: 1, max: 36_500 });
    const email = stringOption(input, 'user');
    if ((days === undefined) === (email === undefined))
      throw new UsageError('give --older-than <days> or --user <email>');

    let target: PurgeTarget;
    let question: string;
    if (days !== undefined) {
      const cutoff = new Date(Date.now() - days * DAY_MS).toISOString();
      target = { kind: 'older_than', cutoff, days };
      question = `Every conversation last active and every file uploaded before ${cutoff} is deleted, for every user.`;
    } else {
      const user = await context.userByEmail(normalisedEmail(email!));
      if (!user.disabled) {
        throw new CommandError(`${user.email} is enabled: disable it first (gigachat disable-user ${user.email})`);
      }
      target = { kind: 'user', userId: user.id };
      question = `Everything ${user.email} owns is deleted, and then the account.`;
    }
    await confirm(input, question);

    const purgeId = randomUUID();
    await (
      await context.audit()
    ).record({
      actorId: null,
      action: 'purge.requested',
      targetType: 'purge',
      targetId: purgeId,
      metadata: { target, by: 'cli' },
      ...context.client,
    });
    const args: PurgeDataInput = { purgeId, target, requestedBy: 'cli' };
    const handle = await (
      await context.temporal()
    ).workflow.start(PURGE_DATA_WORKFLOW, {
      workflowId: purgeWorkflowId(purgeId),
      taskQueue: context.config.temporal.ingestTaskQueue,
      args: [args],
      memo: {
        summary: `purge (${target.kind === 'user' ? 'a user' : `older than ${days} days`}), from the operator CLI`,
      },
    });
    input.out(`started ${handle.workflowId}`);
    if (input.options.detach === true) return;
    const final = await followRun(handle, PURGE_PROGRESS_QUERY, describe, input.out);
    input.out(`done: ${describe(final)}`);
  },
};
