import type { ApiClient } from './api-client';

/** Turns the benchmark sections send through the API, and the check that each was answered. */

/** One conversation per lane: turns of one conversation are serialised by its row lock, lanes must not share one. */
export async function createConversations(api: ApiClient, n: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let lane = 0; lane < n; lane++) {
    const created = await api.call<{ id: string }>(
      'POST',
      '/api/v1/conversations',
      { title: `bench ${label} ${lane}` },
      201,
    );
    ids.push(created.id);
  }
  return ids;
}

export function question(index: number): string {
  return `Bench turn ${index}: what does a durable workflow guarantee when a worker crashes?`;
}

export function expectEcho(answer: string, content: string): void {
  if (answer !== `Echo: ${content}`) throw new Error(`unexpected answer ${JSON.stringify(answer.slice(0, 80))}`);
}
