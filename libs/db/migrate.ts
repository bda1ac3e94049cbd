import 'reflect-metadata';
import { loadConfig } from '../config/load-config';
import { migrateDatabase, splitDatabaseUrl } from './data-source';

/** `npm run db:migrate`: create the database when missing and apply pending migrations. */
async function main(): Promise<void> {
  const config = loadConfig();
  const applied = await migrateDatabase(config.database.url);
  const { database } = splitDatabaseUrl(config.database.url);
  console.log(
    applied.length
      ? `[gigachat] ${database}: applied ${applied.join(', ')}`
      : `[gigachat] ${database}: schema is up to date`,
  );
}

main().catch((error: unknown) => {
  console.error(`[gigachat] migration failed: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof Error && /ECONNREFUSED/.test(error.message)) {
    console.error(
      '[gigachat] MySQL is not answering. Start MariaDB: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
    );
  }
  process.exit(1);
});
