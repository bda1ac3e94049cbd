import type { ServerResponse } from 'node:http';
import type { TurnEvent } from '#libs/events/turn-event-log';
import type { MessageView } from '#libs/contracts/message-view';
import type { TurnEventPayload } from '#libs/contracts/turn-events';

/** The OpenAI shape of a finished answer (`chat.completion`), with GigaChat's ids in an extension field. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: 0;
    message: { role: 'assistant'; content: string; refusal: null };
    finish_reason: 'stop';
    logprobs: null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  gigachat: { conversationId: string; turnId: string; messageId: string; status: MessageView['status'] };
}

export const completionId = (turnId: string): string => `chatcmpl-${turnId}`;

export function usageOf(message: MessageView): ChatCompletion['usage'] {
  const prompt = message.usage?.promptTokens ?? 0;
  const completion = message.usage?.completionTokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function toChatCompletion(turnId: string, model: string, created: number, message: MessageView): ChatCompletion {
  return {
    id: completionId(turnId),
    object: 'chat.completion',
    created,
    model: message.model ?? model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: message.content, refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: usageOf(message),
    gigachat: { conversationId: message.conversationId, turnId, messageId: message.id, status: message.status },
  };
}

/**
 * Writes a turn's events as OpenAI `chat.completion.chunk`s: the role first, each token as a delta, then the finish
 * (and the usage when asked), then `[DONE]`. A failed turn ends with `{error}`, which the SDKs raise.
 *
 * A generation restarted after a worker died streams its tokens again from the start; OpenAI clients cannot take text
 * back, so the new tokens are held until they pass what was already sent, and only the rest is sent (when the new
 * text does not begin with the old, the final chunk's `gigachat.content` holds the stored answer).
 */
export class CompletionChunkWriter {
  private sent = '';
  private regenerated: string | undefined;
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly turnId: string,
    private readonly model: string,
    private readonly created: number,
    private readonly includeUsage: boolean,
  ) {}

  get finished(): boolean {
    return this.ended;
  }

  start(): void {
    this.chunk({ role: 'assistant', content: '' }, null);
  }

  /** One turn event; returns what `res.write` said (false: wait for `drain`). */
  send(event: TurnEvent): boolean {
    const payload = { event: event.event, data: JSON.parse(event.data) as unknown } as TurnEventPayload;
    switch (payload.event) {
      case 'step':
        if (payload.data.name === 'generation' && payload.data.status === 'restarted') this.regenerated = '';
        return true;
      case 'token':
        return this.token(payload.data.delta);
      case 'message.completed':
        return this.finish(payload.data.assistantMessage);
      case 'turn.cancelled':
        return payload.data.assistantMessage
          ? this.finish(payload.data.assistantMessage)
          : this.fail('turn_cancelled', 'The turn was cancelled before an answer');
      case 'turn.failed':
        return this.fail(payload.data.code, payload.data.detail);
      default:
        return true;
    }
  }

  private token(delta: string): boolean {
    if (this.regenerated === undefined) {
      this.sent += delta;
      return this.chunk({ content: delta }, null);
    }
    this.regenerated += delta;
    if (this.regenerated.length <= this.sent.length || !this.regenerated.startsWith(this.sent)) return true;
    const rest = this.regenerated.slice(this.sent.length);
    this.sent = this.regenerated;
    this.regenerated = undefined;
    return this.chunk({ content: rest }, null);
  }

  private finish(message: MessageView): boolean {
    const extra =
      message.content === this.sent
        ? {}
        : message.content.startsWith(this.sent)
          ? { content: message.content.slice(this.sent.length) }
          : {};
    this.chunk(extra, 'stop', {
      gigachat: {
        conversationId: message.conversationId,
        turnId: this.turnId,
        messageId: message.id,
        status: message.status,
        ...(message.content.startsWith(this.sent) ? {} : { content: message.content }),
      },
    });
    if (this.includeUsage) this.write({ ...this.base(), choices: [], usage: usageOf(message) });
    return this.done();
  }

  private fail(code: string, detail: string): boolean {
    this.write({ error: { message: detail, type: code, code, param: null } });
    return this.done();
  }

  private done(): boolean {
    this.ended = true;
    return this.res.write('data: [DONE]\n\n');
  }

  private base() {
    return { id: completionId(this.turnId), object: 'chat.completion.chunk', created: this.created, model: this.model };
  }

  private chunk(delta: object, finishReason: 'stop' | null, extra: object = {}): boolean {
    return this.write({
      ...this.base(),
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
      ...extra,
    });
  }

  private write(body: object): boolean {
    return this.res.write(`data: ${JSON.stringify(body)}\n\n`);
  }
}
