import type { ContextMessage } from '../contracts/chat-turn.contract';
import type { TokenCounter } from './token-counter';

/** Tokens a chat format spends around each message (role markers, separators). */
export const PER_MESSAGE_OVERHEAD_TOKENS = 4;

export interface ContextWindow {
  messages: ContextMessage[];
  droppedMessages: number;
  promptTokens: number;
}

/**
 * Keeps the system prompt and the newest history that fits `budgetTokens`, walking back from the latest message.
 * The latest message always stays; when it alone exceeds the budget it is cut from the front, keeping its end.
 */
export function fitContextWindow(
  system: string | null,
  history: ContextMessage[],
  budgetTokens: number,
  counter: TokenCounter,
): ContextWindow {
  const cost = (message: ContextMessage): number => counter.count(message.content) + PER_MESSAGE_OVERHEAD_TOKENS;
  const systemMessage: ContextMessage | undefined = system ? { role: 'system', content: system } : undefined;
  let used = systemMessage ? cost(systemMessage) : 0;
  const kept: ContextMessage[] = [];

  for (let index = history.length - 1; index >= 0; index -= 1) {
    const message = history[index]!;
    const tokens = cost(message);
    if (used + tokens <= budgetTokens) {
      kept.unshift(message);
      used += tokens;
      continue;
    }
    if (kept.length === 0) {
      const shortened = truncateToTokens(
        message,
        Math.max(budgetTokens - used - PER_MESSAGE_OVERHEAD_TOKENS, 1),
        counter,
      );
      kept.unshift(shortened);
      used += cost(shortened);
    }
    break;
  }
  return {
    messages: systemMessage ? [systemMessage, ...kept] : kept,
    droppedMessages: history.length - kept.length,
    promptTokens: used,
  };
}

function truncateToTokens(message: ContextMessage, maxTokens: number, counter: TokenCounter): ContextMessage {
  let content = message.content;
  while (content.length > 0 && counter.count(content) > maxTokens) {
    const ratio = maxTokens / counter.count(content);
    content = content.slice(content.length - Math.max(Math.floor(content.length * ratio * 0.95), 0));
  }
  return { ...message, content };
}
