import { describe, expect, it } from '@jest/globals';
import type { Message, TurnEvent } from '../api/types';
import { applyTurnEvent, startLiveTurn } from './live-turn';

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
});
