import { SOURCES_STEP_ATTEMPTS, TURN_FAILURE_TYPES } from '#libs/contracts/chat-turn.contract';
import { charCounter, chatTurnFixture, inActivity } from './testing/chat-activity-kit';
import { createPrepareTurn } from './prepare-turn.activity';
import type { FileRetriever } from './retrieve-from-files.activity';
import type { WebSearcher } from './search-web.activity';

const passage = { chunkId: 'k-1', fileId: 'f-1', fileName: 'notes.md', heading: null, content: 'Workflows replay.' };

function setup(sources: { retriever?: FileRetriever; webSearch?: WebSearcher } = {}) {
  const kit = chatTurnFixture();
  kit.store.readyFiles.set('u-1', ['f-1']);
  const { prepareTurn } = createPrepareTurn({
    ...kit,
    ...sources,
    tokenCounter: charCounter,
    contextTokens: 10_000,
    maxOutputTokens: 0,
  });
  return { kit, prepareTurn };
}

describe('prepareTurn', () => {
  it('loads the history and finds passages and web results side by side, with the steps’ events', async () => {
    const { kit, prepareTurn } = setup({
      retriever: { search: async () => ({ mode: 'hybrid', chunks: [passage] }) },
      webSearch: {
        search: async () => ({
          status: 'ok',
          cached: false,
          results: [{ title: 'T', url: 'https://x.test', snippet: 'S' }],
        }),
      },
    });
    const prepared = await inActivity(() => prepareTurn({ ...kit.turn, webSearch: true }));

    expect(prepared.context.messages.map((m) => m.content)).toEqual([
      'Be brief.',
      'hello',
      'hi there',
      'what is a workflow?',
    ]);
    expect(prepared.retrieval).toEqual({
      sources: [{ kind: 'file', title: 'notes.md', fileId: 'f-1', chunkId: 'k-1', text: 'Workflows replay.' }],
      status: 'completed',
      detail: '1 passage, hybrid',
    });
    expect(prepared.webSearch).toMatchObject({ status: 'completed', detail: '1 result' });
    expect(kit.store.turns.get('t-1')?.status).toBe('running');
    const events = kit.events.events.map((e) => (e.event === 'step' ? `${e.data.name}:${e.data.status}` : e.event));
    // The turn opens its stream; each step's end follows its start.
    expect(events[0]).toBe('turn.started');
    expect(events.sort()).toEqual(
      [
        'turn.started',
        'context:running',
        'context:completed',
        'retrieval:running',
        'retrieval:completed',
        'web_search:running',
        'web_search:completed',
      ].sort(),
    );
  });

  it('leaves web search out when the turn did not ask for it', async () => {
    const webSearch: WebSearcher = { search: jest.fn() };
    const { kit, prepareTurn } = setup({ webSearch });
    const prepared = await inActivity(() => prepareTurn(kit.turn));
    expect(prepared).not.toHaveProperty('webSearch');
    expect(prepared.retrieval).toMatchObject({ status: 'skipped', detail: 'retrieval is not configured' });
    expect(webSearch.search).not.toHaveBeenCalled();
  });

  it('retries the whole step while a source fails, and answers without it on the last attempt', async () => {
    const search = jest.fn(async () => Promise.reject(new Error('MySQL went away')));
    const { kit, prepareTurn } = setup({ retriever: { search } });
    await expect(inActivity(() => prepareTurn(kit.turn), { attempt: 1 })).rejects.toThrow('MySQL went away');
    const prepared = await inActivity(() => prepareTurn(kit.turn), { attempt: SOURCES_STEP_ATTEMPTS });
    expect(prepared.retrieval).toMatchObject({ sources: [], status: 'skipped' });
    expect(prepared.context.messages).toHaveLength(4);
  });

  it('fails as the history does when the conversation is gone, once the sources have settled', async () => {
    let searched = false;
    const retriever: FileRetriever = {
      search: async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        searched = true;
        return { mode: 'lexical', chunks: [] };
      },
    };
    const { kit, prepareTurn } = setup({ retriever });
    kit.store.conversations.delete('c-1');
    await expect(inActivity(() => prepareTurn(kit.turn))).rejects.toMatchObject({
      type: TURN_FAILURE_TYPES.contextNotFound,
      message: 'Conversation c-1 no longer exists',
    });
    // The failure was reported only after the slower search had finished: no part of this attempt runs on.
    expect(searched).toBe(true);
  });
});
