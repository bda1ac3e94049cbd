import { readFileSync } from 'node:fs';
import { SECRET_VARIABLES } from './config.schema';

/**
 * Fills each secret variable from its `<NAME>_FILE` (Docker/Kubernetes secrets) when that is set: the file's content
 * without its trailing line break. Setting both, or naming a file that cannot be read or is empty, is a problem named
 * by variable; a secret's value never appears in a message.
 */
export function withSecretFiles(values: Record<string, string>, problems: string[]): Record<string, string> {
  const out = { ...values };
  for (const name of SECRET_VARIABLES) {
    const path = out[`${name}_FILE`];
    if (path === undefined) continue;
    if (out[name] !== undefined) {
      problems.push(`${name}_FILE: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    let content: string;
    try {
      content = readFileSync(path, 'utf8');
    } catch (error) {
      problems.push(`${name}_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    const value = content.replace(/\r?\n$/, '');
    if (value.trim() === '') problems.push(`${name}_FILE: ${path} is empty`);
    else out[name] = value;
  }
  return out;
}
