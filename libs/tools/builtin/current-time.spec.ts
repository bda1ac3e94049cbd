import { ToolError } from '../tool-definition';
import { createCurrentTimeTool } from './current-time';

describe('current_time tool', () => {
  const ctx = { userId: 'u1', turnId: 't1', signal: new AbortController().signal };
  const tool = createCurrentTimeTool({ now: () => new Date('2024-03-05T14:07:09.000Z') });

  it('tells the time in UTC by default', async () => {
    const output = await tool.run({}, ctx);
    expect(output.content).toBe(
      'Time zone: UTC\nLocal time: Tuesday, March 5, 2024 at 14:07:09 UTC\nISO 8601 (UTC): 2024-03-05T14:07:09.000Z',
    );
    expect(output.summary).toBe('Tuesday, March 5, 2024 at 14:07:09 UTC (UTC)');
  });

  it('tells the local time in an IANA zone', async () => {
    const output = await tool.run({ timeZone: 'Asia/Tokyo' }, ctx);
    expect(output.content).toContain('Local time: Tuesday, March 5, 2024 at 23:07:09 GMT+9');
    expect(output.content).toContain('ISO 8601 (UTC): 2024-03-05T14:07:09.000Z');
  });

  it('refuses a zone Intl does not know, with a hint', async () => {
    const error: unknown = await tool.run({ timeZone: 'Mars/Olympus' }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).message).toBe(
      'Unknown time zone "Mars/Olympus": use an IANA name such as "Europe/Paris"',
    );
  });
});
