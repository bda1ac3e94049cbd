import { inSpan } from '#libs/telemetry/tracing';
import { ReplayApiClient } from './replay-api-client';
import { parseReplayArgs, USAGE, UsageError } from './replay-args';
import { EXIT, runReplayCommand } from './run-replay-command';

/**
 * `npm run replay -- …`: batch replays from the command line, through the REST API with an admin API token (the same
 * validation, access checks, idempotency and audit as any client, and no database or Temporal credentials on the
 * operator's machine). See USAGE.
 */
export async function runReplayCli(): Promise<number> {
  let parsed;
  try {
    parsed = parseReplayArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`replay: ${error.message}\n\n${USAGE}\n`);
    return EXIT.refused;
  }
  if (parsed.command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  // The CLI's whole configuration: two variables, read once here.
  const token = parsed.token ?? process.env.GIGACHAT_API_TOKEN;
  const api = parsed.api ?? process.env.GIGACHAT_API_URL ?? 'http://127.0.0.1:3000';
  if (!token) {
    process.stderr.write('replay: set GIGACHAT_API_TOKEN (an API token with the admin scope) or pass --token\n');
    return EXIT.refused;
  }
  const interrupt = new AbortController();
  process.once('SIGINT', () => interrupt.abort());
  const { command } = parsed;
  return inSpan(`replay ${command.kind}`, () =>
    runReplayCommand(command, new ReplayApiClient(api, token), {
      stdout: process.stdout,
      stderr: process.stderr,
      sleep: (ms) =>
        new Promise((resolve) => {
          const timer = setTimeout(resolve, ms);
          interrupt.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
      signal: interrupt.signal,
    }),
  );
}
