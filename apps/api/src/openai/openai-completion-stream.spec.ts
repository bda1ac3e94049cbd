import type { ServerResponse } from 'node:http';
import type { MessageView } from '#libs/contracts/message-view';
import { turnEvents, type TurnEventPayload } from '#libs/contracts/turn-events';
import type { TurnEvent } from '#libs/events/turn-event-log';
import { CompletionChunkWriter } from './openai-completion-stream';

/** The chunks a writer sent, parsed, and the deltas' text. */
function capture() {
  const frames: string[] = [];
  const res = { write: (frame: string) => frames.push(frame) > 0 } as unknown as ServerResponse;
  const parsed = () =>
    frames
      .map((frame) => frame.replace(/^data: /, '').trim())
      .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
  const text = () =>
    parsed()
      .filter((chunk) => chunk !== '[DONE]' && chunk.choices)
      .flatMap((chunk) => chunk.choices.map((choice: { delta: { content?: string } }) => choice.delta.content ?? ''))
      .join('');
  return { res, parsed, text };
}

let seq = 0;
const event = (payload: TurnEventPayload): TurnEvent => ({
  id: `${++seq}-0`,
  event: payload.event,
  data: JSON.stringify(payload.data),
});
const message = (content: string): MessageView => ({
  id: 'm1',
  conversationId: 'c1',
  parentId: null,
  role: 'assistant',
  content,
  status: 'complete',
  model: 'fake-model',
  turnId: 't1',
  citations: [],
  usage: { promptTokens: 5, completionTokens: 3 },
  toolCalls: [],
  createdAt: new Date(0).toISOString(),
});
const restarted = event(turnEvents.step({ name: 'generation', status: 'restarted' }));

describe('CompletionChunkWriter', () => {
  it('sends the role, each token, the finish with the usage when asked, then [DONE]', () => {
    const out = capture();
    const writer = new CompletionChunkWriter(out.res, 't1', 'fake-model', 1, true);
    writer.start();
    for (const delta of ['Hel', 'lo']) writer.send(event(turnEvents.token(delta)));
    writer.send(event(turnEvents.completed(message('Hello'))));
    const chunks = out.parsed();
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(out.text()).toBe('Hello');
    expect(chunks.at(-3).choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-2)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
    });
    expect(chunks.at(-1)).toBe('[DONE]');
    expect(writer.finished).toBe(true);
  });

  it('after a restarted generation sends only what goes beyond the text already sent, once', () => {
    const out = capture();
    const writer = new CompletionChunkWriter(out.res, 't1', 'fake-model', 1, false);
    writer.start();
    for (const delta of ['one ', 'two ']) writer.send(event(turnEvents.token(delta)));
    writer.send(restarted);
    for (const delta of ['one ', 'two ', 'three']) writer.send(event(turnEvents.token(delta)));
    writer.send(event(turnEvents.completed(message('one two three'))));
    expect(out.text()).toBe('one two three');
  });

  it('puts the stored answer in gigachat.content when a restarted generation said something else', () => {
    const out = capture();
    const writer = new CompletionChunkWriter(out.res, 't1', 'fake-model', 1, false);
    writer.start();
    writer.send(event(turnEvents.token('first try')));
    writer.send(restarted);
    writer.send(event(turnEvents.token('second')));
    writer.send(event(turnEvents.completed(message('second'))));
    const finish = out.parsed().at(-2);
    expect(finish.gigachat).toMatchObject({ content: 'second', status: 'complete' });
    expect(out.text()).toBe('first try');
  });

  it('ends a failed turn with an error object the SDKs raise', () => {
    const out = capture();
    const writer = new CompletionChunkWriter(out.res, 't1', 'fake-model', 1, false);
    writer.start();
    writer.send(event(turnEvents.failed('upstream_unavailable', 'Every provider failed')));
    expect(out.parsed().slice(-2)).toEqual([
      {
        error: {
          message: 'Every provider failed',
          type: 'upstream_unavailable',
          code: 'upstream_unavailable',
          param: null,
        },
      },
      '[DONE]',
    ]);
  });
});
