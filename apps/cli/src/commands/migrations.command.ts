import { listMigrations, revertLastMigration, splitDatabaseUrl } from '#libs/db/data-source';
import { CommandError, UsageError, type Command } from '../command';
import { confirm } from '../operator-input';

export const migrationsCommand: Command = {
  name: 'migrations',
  summary: 'show the schema migrations and which are applied, or revert the last one',
  help: [
    'usage: gigachat migrations [show]',
    '       gigachat migrations revert [--yes]',
    '',
    '  show     every migration of this build, oldest first: [x] applied, [ ] pending; and applied ones this',
    '           build does not know (a newer build ran here)',
    '  revert   runs the `down` of the most recently applied migration, in a transaction (its data may be lost)',
    '           Apply migrations with `npm run db:migrate` (the image: node dist/libs/db/migrate.js).',
    '',
    '  --yes    revert without asking',
  ].join('\n'),
  options: { yes: { type: 'boolean' } },
  needsConfig: true,
  async run(input, context) {
    const url = context.config.database.url;
    const { database } = splitDatabaseUrl(url);
    const action = input.positionals[0] ?? 'show';
    if (action === 'show') {
      const { migrations, unknown } = await listMigrations(url);
      for (const migration of migrations) input.out(`[${migration.applied ? 'x' : ' '}] ${migration.name}`);
      for (const name of unknown) input.out(`[?] ${name} (applied, not in this build)`);
      const pending = migrations.filter((migration) => !migration.applied).length;
      input.out(`${database}: ${migrations.length - pending} applied, ${pending} pending`);
      return;
    }
    if (action !== 'revert') throw new UsageError(`unknown action "${action}": show or revert`);
    const { lastApplied, unknown } = await listMigrations(url);
    if (!lastApplied) throw new CommandError(`${database}: no migration is applied`);
    if (unknown.includes(lastApplied)) {
      throw new CommandError(
        `${database}: the last migration, ${lastApplied}, is not in this build: revert it with that build`,
      );
    }
    await confirm(input, `The last migration of ${database}, ${lastApplied}, is reverted.`);
    const reverted = await revertLastMigration(url);
    input.out(reverted ? `${database}: reverted ${reverted}` : `${database}: no migration is applied`);
  },
};
