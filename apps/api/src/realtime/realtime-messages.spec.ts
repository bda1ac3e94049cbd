import { parseClientMessage } from './realtime-messages';

const TURN = '0b6f1c2e-8a3d-4f7e-9c1b-2d3e4f5a6b7c';

describe('parseClientMessage', () => {
  it('accepts each known message with its fields', () => {
    expect(parseClientMessage(JSON.stringify({ type: 'auth', token: 'v4.local.x' }))).toEqual({
      ok: true,
      message: { type: 'auth', token: 'v4.local.x' },
    });
    expect(
      parseClientMessage(JSON.stringify({ type: 'subscribe', turnId: TURN, lastEventId: '17-0', ref: 'a' })),
    ).toEqual({ ok: true, message: { type: 'subscribe', turnId: TURN, lastEventId: '17-0', ref: 'a' } });
    expect(parseClientMessage('{"type":"ping"}')).toEqual({ ok: true, message: { type: 'ping' } });
  });

  it('keeps the body fields of send for the DTO validation, and checks its own', () => {
    const parsed = parseClientMessage(
      JSON.stringify({ type: 'send', conversationId: TURN, content: 'hi', model: 'm', idempotencyKey: 'k-1' }),
    );
    expect(parsed).toEqual({
      ok: true,
      message: { type: 'send', conversationId: TURN, content: 'hi', model: 'm', idempotencyKey: 'k-1' },
    });
    const bad = parseClientMessage(JSON.stringify({ type: 'send', conversationId: 'nope', idempotencyKey: 'a b' }));
    expect(bad).toMatchObject({ ok: false, code: 'validation_failed' });
    expect(bad.ok ? [] : bad.errors?.map((e) => e.field).sort()).toEqual(['conversationId', 'idempotencyKey']);
  });

  it('refuses what is not a JSON object, unknown types and unknown fields', () => {
    for (const text of ['', 'nope', '[]', '42', 'null']) {
      expect(parseClientMessage(text)).toMatchObject({ ok: false, code: 'invalid_message' });
    }
    expect(parseClientMessage('{"type":"toString"}')).toMatchObject({ ok: false, code: 'invalid_message' });
    expect(parseClientMessage('{"type":"dance","ref":"r"}')).toMatchObject({ ok: false, ref: 'r' });
    const extra = parseClientMessage(JSON.stringify({ type: 'ping', token: 'leak?' }));
    expect(extra).toMatchObject({
      ok: false,
      code: 'validation_failed',
      errors: [{ message: 'is not a known field' }],
    });
    expect(parseClientMessage(JSON.stringify({ type: 'subscribe', turnId: TURN, lastEventId: '1' }))).toMatchObject({
      ok: false,
      errors: [{ field: 'lastEventId' }],
    });
  });
});
