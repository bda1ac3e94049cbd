import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from './app-error';
import { ERROR_CODE_DOMAINS } from './error-codes';
import { CODE_FOR_STATUS, HTTP_STATUS_OF } from './http-status';
import { problem } from './problem';

const domainCodes = Object.entries(ERROR_CODE_DOMAINS).flatMap(([domain, codes]) =>
  Object.values(codes).map((code: string) => ({ domain, code })),
);

describe('error codes and HTTP statuses', () => {
  it('gives every code of every domain exactly one status', () => {
    for (const { code } of domainCodes) {
      expect({ code, status: HTTP_STATUS_OF[code as keyof typeof HTTP_STATUS_OF] }).toEqual({
        code,
        status: expect.any(Number),
      });
    }
    const seen = new Map<string, string>();
    for (const { domain, code } of domainCodes) {
      expect({ code, alsoIn: seen.get(code) }).toEqual({ code, alsoIn: undefined });
      seen.set(code, domain);
    }
  });

  it('has no status for a code no domain declares', () => {
    expect(Object.keys(HTTP_STATUS_OF).sort()).toEqual(domainCodes.map(({ code }) => code).sort());
  });

  it('maps bare statuses back to codes that answer with that status', () => {
    for (const [status, code] of Object.entries(CODE_FOR_STATUS)) expect(HTTP_STATUS_OF[code]).toBe(Number(status));
  });

  it("builds errors and problems whose status is the code's own", () => {
    expect(new AppError('invalid_credentials', 'no').status).toBe(401);
    expect(problem('turn_cancelled', 'stopped')).toMatchObject({ status: 409, code: 'turn_cancelled' });
  });

  it('leaves the choice of status to the table: no source file passes a status with a code', () => {
    const root = resolve(__dirname, '../..');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts') && !name.endsWith('.spec.ts')) {
          const text = readFileSync(path, 'utf8');
          if (/new \w*Error\(\s*'[a-z_]+',\s*\d{3}\b/.test(text) || /problem\(\s*\d{3}\b/.test(text)) {
            offenders.push(path.slice(root.length + 1));
          }
        }
      }
    };
    for (const dir of ['apps', 'libs', 'activities']) walk(join(root, dir));
    expect(offenders).toEqual([]);
  });
});
