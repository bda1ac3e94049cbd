import { Writable } from 'node:stream';
import { addToLogContext, runWithLogContext } from './log-context';
import { createLogger } from './logger';
import { prettyLine } from './pretty-stream';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', name: 'spec', destination }) };
}

describe('logger', () => {
  it('puts the log context on every line, across awaits, nested contexts adding to outer ones', async () => {
    const { lines, logger } = capture();
    logger.info('outside');
    await runWithLogContext({ requestId: 'r1' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      addToLogContext({ userId: 'u1' });
      logger.info('in the request');
      await runWithLogContext({ activity: 'generate' }, async () => {
        await Promise.resolve();
        logger.info({ requestId: 'explicit wins' }, 'nested');
      });
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map(({ msg, requestId, userId, activity }) => ({ msg, requestId, userId, activity }))).toEqual([
      { msg: 'outside', requestId: undefined, userId: undefined, activity: undefined },
      { msg: 'in the request', requestId: 'r1', userId: 'u1', activity: undefined },
      { msg: 'nested', requestId: 'explicit wins', userId: 'u1', activity: 'generate' },
    ]);
  });

  it('redacts credentials wherever they sit', async () => {
    const { lines, logger } = capture();
    logger.info({ password: 'hunter2', body: { accessToken: 'tok' }, req: { headers: { authorization: 'x' } } }, 'm');
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.stringify(lines)).not.toMatch(/hunter2|"tok"|"x"/);
  });

  it('prints a JSON line for a terminal: time, level, service, message, then the details', () => {
    const line = JSON.stringify({
      level: 'warn',
      time: '2026-12-04T21:40:41.598Z',
      service: 'api',
      msg: 'request',
      requestId: 'r1',
      status: 503,
    });
    expect(prettyLine(line, false)).toBe('21:40:41.598  WARN   api  request  requestId=r1 status=503');
    expect(prettyLine('not json', false)).toBe('not json');
  });
});
