import { parseReplayArgs, UsageError } from './replay-args';

const parse = (line: string, files: Record<string, string> = {}) =>
  parseReplayArgs(line.split(' ').filter(Boolean), (path) => {
    const text = files[path];
    if (text === undefined) throw new Error(`no such file ${path}`);
    return text;
  });

describe('replay CLI arguments', () => {
  it('builds the request: selection, arms with their settings, mode, judge and limits', () => {
    const { command, api, token } = parseReplayArgs([
      ...'--conversations a,b --arm model=m1,label=new,retrieval=on,web=off --arm'.split(' '),
      'model=m2,prompt=Be brief, kind.',
      ...(
        '--mode trajectory --judge model=j,against=first-arm,seed=7 --concurrency 4 --max 20000 --max-turns 3 ' +
        '--provider-limit local,concurrency=2,rps=1.5 --report md --api http://api:3000 --token gct_x'
      ).split(' '),
    ]);
    expect({ api, token }).toEqual({ api: 'http://api:3000', token: 'gct_x' });
    expect(command).toEqual({
      kind: 'start',
      wait: true,
      report: 'md',
      body: {
        selection: { conversationIds: ['a', 'b'] },
        arms: [
          { model: 'm1', label: 'new', retrieval: true, webSearch: false },
          { model: 'm2', systemPrompt: 'Be brief, kind.' },
        ],
        mode: 'trajectory',
        judge: { model: 'j', against: 'first-arm', seed: 7 },
        limits: {
          concurrency: 4,
          maxConversations: 20000,
          maxTurnsPerConversation: 3,
          providers: [{ name: 'local', concurrency: 2, requestsPerSecond: 1.5 }],
        },
      },
    });
  });

  it('selects by filters, reads ids from a file, defaults to pinned, and takes --opt=value', () => {
    expect(parse('--user u1 --since=2026-01-01 --query travel --arm model=m --no-wait').command).toEqual({
      kind: 'start',
      wait: false,
      body: {
        selection: { userId: 'u1', since: '2026-01-01', query: 'travel' },
        arms: [{ model: 'm' }],
        mode: 'pinned',
      },
    });
    const fromFile = parse('--conversations @ids.txt --arm model=m,prompt=none', { 'ids.txt': 'a\nb\n\nc\n' });
    expect(fromFile.command).toMatchObject({
      body: { selection: { conversationIds: ['a', 'b', 'c'] }, arms: [{ model: 'm', systemPrompt: null }] },
    });
  });

  it('follows a replay, with a report format', () => {
    expect(parse('--follow r-1 --report csv').command).toEqual({ kind: 'follow', replayId: 'r-1', report: 'csv' });
    expect(parse('--help').command).toEqual({ kind: 'help' });
  });

  it.each([
    ['', 'name the conversations'],
    ['--conversations a', 'give at least one --arm'],
    ['--conversations a --arm label=x', '--arm needs model=NAME'],
    ['--conversations a --arm model=m,temperature=2', 'unknown key temperature'],
    ['--conversations a --arm model=m,retrieval=maybe', 'is on or off'],
    ['--conversations a --arm model=m --mode sideways', '--mode is pinned or trajectory'],
    ['--conversations a --arm model=m --judge against=original', '--judge needs model=NAME'],
    ['--conversations a --arm model=m --concurrency four', 'must be a whole number'],
    ['--conversations a --arm model=m --report pdf', '--report is md, json or csv'],
    ['--conversations a --arm model=m --provider-limit local,rps=0', 'rps must be a positive number'],
    ['--conversations a --conversations b --arm model=m', '--conversations may be given once'],
    ['--follow r-1 --arm model=m', '--follow takes only --report'],
    ['--conversations', '--conversations needs a value'],
    ['--frobnicate', 'unknown option --frobnicate'],
    ['stray', 'unexpected argument'],
  ])('refuses %j', (line, message) => {
    expect(() => parse(line)).toThrow(UsageError);
    expect(() => parse(line)).toThrow(message);
  });
});
