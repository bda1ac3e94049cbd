import { startTracing, shutdownTracing } from '#libs/telemetry/tracing';
import { EXIT } from './run-replay-command';

// The replay CLI's entry: with an OTLP endpoint set, tracing starts before anything it instruments loads, each command
// is one span, and its requests carry the trace to the API (so the replay's workflows join it). Spans are flushed
// before the process exits.
try {
  startTracing('gigachat-replay-cli');
} catch (error) {
  process.stderr.write(`replay: tracing: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(EXIT.refused);
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runReplayCli } = require('./run-replay-cli') as typeof import('./run-replay-cli');
void runReplayCli()
  .catch((error: unknown) => {
    process.stderr.write(`replay: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.batchFailed;
  })
  .then(async (code) => {
    await shutdownTracing().catch(() => undefined);
    process.exit(code);
  });
