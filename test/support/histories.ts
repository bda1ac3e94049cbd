import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Writes a workflow's history to `file` with the Temporal CLI, in the JSON form that `historyFromJSON` reads
 * (for `RECORD_HISTORIES=1` runs that re-record the replay fixtures).
 */
export function recordHistory(workflowId: string, address: string, file: string): void {
  const temporalCli = execFileSync('bash', [resolve(__dirname, '../../deploy/tools.sh'), 'path', 'temporal'], {
    encoding: 'utf8',
  }).trim();
  const json = execFileSync(
    temporalCli,
    ['workflow', 'show', '--workflow-id', workflowId, '--address', address, '--output', 'json'],
    { encoding: 'utf8' },
  );
  writeFileSync(file, json);
}
