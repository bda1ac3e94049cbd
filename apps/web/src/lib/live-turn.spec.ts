import { describe, expect, it } from '@jest/globals';
import type { Message, ToolCallRecord, TurnEvent } from '../api/types';
import { applyTurnEvent, settleApproval, startLiveTurn } from './live-turn';

const play = (events: [TurnEvent, string][]) =>
  events.reduce((turn, [event, id]) => applyTurnEvent(turn, event, id), startLiveTurn('t1', 'c1'));

const message = (content: string) => ({ id: 'a1', content }) as Message;

describe('applyTurnEvent', () => {
  it('builds the answer from its tokens and remembers the last event id', () => {
    const turn = play([
      [
        {
          event: 'turn.started',
          data: { turnId: 't1', conversationId: 'c1', userMessageId: 'u1', assistantMessageId: 'a1' },
        },
        '1-0',
      ],
      [{ event: 'step', data: { name: 'generation', status: 'running' } }, '1-1'],
      [{ event: 'token', data: { delta: 'Hello ' } }, '1-2'],
      [{ event: 'token', data: { delta: 'world' } }, '1-3'],
    ]);
    expect(turn).toMatchObject({
      text: 'Hello world',
      lastEventId: '1-3',
      assistantMessageId: 'a1',
    });
    expect(turn.outcome).toBeUndefined();
    expect(turn.steps).toEqual([{ name: 'generation', status: 'running' }]);
  });

  it('drops the partial text when the generation restarts, and keeps the step list current', () => {
    const turn = play([
      [{ event: 'step', data: { name: 'context', status: 'completed', detail: '2 messages' } }, '1-0'],
      [{ event: 'token', data: { delta: 'half an ans' } }, '1-1'],
      [{ event: 'step', data: { name: 'generation', status: 'restarted' } }, '1-2'],
      [{ event: 'token', data: { delta: 'A whole answer' } }, '1-3'],
    ]);
    expect(turn.text).toBe('A whole answer');
    expect(turn.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['context:completed', 'generation:restarted']);
  });

  it('ends with the saved message, a failure, or the kept partial answer of a cancel', () => {
    expect(play([[{ event: 'message.completed', data: { assistantMessage: message('Final') } }, '2-0']])).toMatchObject(
      {
        outcome: 'completed',
        text: 'Final',
      },
    );
    expect(play([[{ event: 'turn.failed', data: { code: 'llm_bad_request', detail: 'no' } }, '2-0']])).toMatchObject({
      outcome: 'failed',
      error: { code: 'llm_bad_request', detail: 'no' },
    });
    const cancelled = play([
      [{ event: 'token', data: { delta: 'partial' } }, '3-0'],
      [{ event: 'turn.cancelled', data: { turnId: 't1', assistantMessage: null } }, '3-1'],
    ]);
    expect(cancelled).toMatchObject({ outcome: 'cancelled', text: 'partial' });
  });

  describe('tool calls', () => {
    const calc = { callId: 'call_1', name: 'calculator', arguments: '{"expression":"6*7"}', step: 0 };
    const clock = { callId: 'call_2', name: 'current_time', arguments: '{}', step: 0 };
    const result = (call: typeof calc, outcome: ToolCallRecord['outcome'], summary: string): TurnEvent => ({
      event: 'tool.result',
      data: {
        id: call.callId,
        name: call.name,
        arguments: call.arguments,
        step: call.step,
        outcome,
        summary,
        durationMs: 12,
      },
    });

    it('shows each call as asked, then its outcome, in the order asked', () => {
      const turn = play([
        [{ event: 'tool.call', data: { ...calc, requiresApproval: false } }, '4-0'],
        [{ event: 'tool.call', data: { ...clock, requiresApproval: false, invalid: 'unknown tool' } }, '4-1'],
        [result(calc, 'completed', '6*7 = 42'), '4-2'],
      ]);
      expect(turn.toolCalls).toEqual([
        {
          ...calc,
          requiresApproval: false,
          result: expect.objectContaining({ outcome: 'completed', summary: '6*7 = 42' }),
        },
        { ...clock, requiresApproval: false, invalid: 'unknown tool' },
      ]);
      expect(turn.lastEventId).toBe('4-2');
    });

    it('applies a repeated tool.result once (delivery is at least once)', () => {
      const events: [TurnEvent, string][] = [
        [{ event: 'tool.call', data: { ...calc, requiresApproval: false } }, '5-0'],
        [result(calc, 'completed', '6*7 = 42'), '5-1'],
      ];
      const once = play(events);
      const twice = play([...events, [result(calc, 'completed', '6*7 = 42'), '5-2']]);
      expect(twice.toolCalls).toEqual(once.toolCalls);
      expect(twice.toolCalls).toHaveLength(1);
      expect(twice.lastEventId).toBe('5-2'); // still resumes after the repeat
      // A result whose tool.call was never seen (the stream resumed after it) still shows the call.
      expect(play([[result(clock, 'denied', 'denied by the user'), '6-0']]).toolCalls).toEqual([
        { ...clock, requiresApproval: false, result: expect.objectContaining({ outcome: 'denied' }) },
      ]);
    });

    it('waits for approval until the result or a decision, and never asks again after either', () => {
      const expiresAt = '2026-01-01T00:05:00.000Z';
      const waiting = play([
        [{ event: 'tool.call', data: { ...clock, requiresApproval: true } }, '7-0'],
        [{ event: 'tool.approval_required', data: { ...clock, expiresAt } }, '7-1'],
      ]);
      expect(waiting.toolCalls).toEqual([{ ...clock, requiresApproval: true, approvalExpiresAt: expiresAt }]);

      const approved = settleApproval(waiting, 'call_2', 'approved');
      expect(approved.toolCalls).toEqual([{ ...clock, requiresApproval: true, decision: 'approved' }]);
      // The same approval_required again (a resumed stream) does not bring the buttons back.
      const again = applyTurnEvent(approved, { event: 'tool.approval_required', data: { ...clock, expiresAt } }, '7-1');
      expect(again.toolCalls[0]?.approvalExpiresAt).toBeUndefined();

      const done = applyTurnEvent(waiting, result(clock, 'approval_timed_out', 'not approved in time'), '7-2');
      expect(done.toolCalls[0]).toEqual({
        ...clock,
        requiresApproval: true,
        result: expect.objectContaining({ outcome: 'approval_timed_out' }),
      });
      // Told by the server that the call waits no more (409): no decision recorded, no buttons.
      expect(settleApproval(waiting, 'call_2').toolCalls).toEqual([{ ...clock, requiresApproval: true }]);
    });
  });
});
