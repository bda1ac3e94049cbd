import { describe, expect, it } from '@jest/globals';
import { SseParser } from './sse-parser';

describe('SseParser', () => {
  it('parses events with ids, names and JSON data, skipping comments', () => {
    const parser = new SseParser();
    expect(
      parser.push(
        ': keep-alive\n\nid: 1-0\nevent: token\ndata: {"delta":"Hel"}\n\nid: 1-1\nevent: token\ndata: {"delta":"lo"}\n\n',
      ),
    ).toEqual([
      { id: '1-0', event: 'token', data: '{"delta":"Hel"}' },
      { id: '1-1', event: 'token', data: '{"delta":"lo"}' },
    ]);
  });

  it('gives the same events however the text is cut into chunks, CRLF included', () => {
    const text =
      'id: 5-0\r\nevent: step\r\ndata: {"name":"generation",\r\ndata: "status":"running"}\r\n\r\nid: 5-1\ndata: x\n\n';
    const whole = new SseParser().push(text);
    expect(whole).toEqual([
      { id: '5-0', event: 'step', data: '{"name":"generation",\n"status":"running"}' },
      { id: '5-1', event: 'message', data: 'x' },
    ]);
    for (let size = 1; size < 8; size++) {
      const parser = new SseParser();
      const out = [];
      for (let i = 0; i < text.length; i += size) out.push(...parser.push(text.slice(i, i + size)));
      expect(out).toEqual(whole);
    }
  });

  it('holds an unfinished event until its blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.push('id: 9-0\nevent: token\ndata: {"delta":"a"}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ id: '9-0', event: 'token', data: '{"delta":"a"}' }]);
  });
});
