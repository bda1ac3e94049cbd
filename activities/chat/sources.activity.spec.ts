import { SOURCES_STEP_ATTEMPTS } from '#libs/contracts/chat-turn.contract';
import { chatTurnFixture, inActivity } from './testing/chat-activity-kit';
import { createRetrieveFromFiles, type FileRetriever } from './retrieve-from-files.activity';
import { createSearchWeb, type WebSearcher } from './search-web.activity';

const passage = { chunkId: 'k-1', fileId: 'f-1', fileName: 'handbook.md', heading: 'Travel', content: 'Fly economy.' };

describe('retrieveFromFiles', () => {
  it('skips the search (and the query embedding) when the sender has no ready files', async () => {
    const kit = chatTurnFixture();
    const retriever: FileRetriever = { search: jest.fn() };
    const { retrieveFromFiles } = createRetrieveFromFiles({ ...kit, retriever });
    await expect(inActivity(() => retrieveFromFiles(kit.turn))).resolves.toEqual({
      sources: [],
      status: 'skipped',
      detail: 'no ready files',
    });
    expect(retriever.search).not.toHaveBeenCalled();
  });

  it('searches the sender files with the message text and titles passages with their heading', async () => {
    const kit = chatTurnFixture();
    kit.store.readyFiles.set('u-1', ['f-1']);
    const search = jest.fn(async () => ({ mode: 'lexical' as const, chunks: [passage] }));
    const { retrieveFromFiles } = createRetrieveFromFiles({ ...kit, retriever: { search }, retrievalTopK: 3 });
    const outcome = await inActivity(() => retrieveFromFiles({ ...kit.turn, fileIds: ['f-1'] }));
    expect(search).toHaveBeenCalledWith('u-1', 'what is a workflow?', { fileIds: ['f-1'], topK: 3 });
    expect(outcome).toEqual({
      sources: [{ kind: 'file', title: 'handbook.md › Travel', fileId: 'f-1', chunkId: 'k-1', text: 'Fly economy.' }],
      status: 'completed',
      detail: '1 passage, lexical',
    });
    expect(kit.events.events.map((e) => e.data)).toEqual([
      { name: 'retrieval', status: 'running' },
      { name: 'retrieval', status: 'completed', detail: '1 passage, lexical' },
    ]);
  });

  it("searches a replayed turn's sender files the same way, without live events", async () => {
    const kit = chatTurnFixture();
    kit.store.readyFiles.set('u-sender', ['f-1']);
    const search = jest.fn(async () => ({ mode: 'hybrid' as const, chunks: [passage] }));
    const { retrieveFromFiles } = createRetrieveFromFiles({ ...kit, retriever: { search } });
    const outcome = await inActivity(() =>
      retrieveFromFiles({
        replay: { replayId: 'r-1', conversationId: 'c-1', turnIndex: 0, armIndex: 0 },
        userId: 'u-sender',
        conversationId: 'c-1',
        userMessageId: 'm-user',
      }),
    );
    expect(search).toHaveBeenCalledWith('u-sender', 'what is a workflow?', { topK: 5 });
    expect(outcome).toMatchObject({ status: 'completed', detail: '1 passage, hybrid' });
    expect(kit.events.events).toEqual([]);
  });

  it('rethrows a failed search until the last attempt, then answers without it', async () => {
    const kit = chatTurnFixture();
    kit.store.readyFiles.set('u-1', ['f-1']);
    const retriever: FileRetriever = { search: async () => Promise.reject(new Error('MySQL went away')) };
    const { retrieveFromFiles } = createRetrieveFromFiles({ ...kit, retriever });
    await expect(inActivity(() => retrieveFromFiles(kit.turn), { attempt: 1 })).rejects.toThrow('MySQL went away');
    await expect(
      inActivity(() => retrieveFromFiles(kit.turn), { attempt: SOURCES_STEP_ATTEMPTS }),
    ).resolves.toMatchObject({ sources: [], status: 'skipped' });
  });
});

describe('searchWeb', () => {
  it('reports the step skipped, with the reason, when SearxNG degrades', async () => {
    const kit = chatTurnFixture();
    const webSearch: WebSearcher = {
      search: async () => ({ status: 'skipped', reason: 'rate_limited', detail: '429' }),
    };
    const { searchWeb } = createSearchWeb({ ...kit, webSearch });
    await expect(inActivity(() => searchWeb(kit.turn))).resolves.toEqual({
      sources: [],
      status: 'skipped',
      detail: 'rate_limited: 429',
    });
  });

  it('turns results into web sources and says when they came from the cache', async () => {
    const kit = chatTurnFixture();
    const webSearch: WebSearcher = {
      search: async () => ({
        status: 'ok',
        cached: true,
        results: [{ title: 'T', url: 'https://x.test', snippet: 'S' }],
      }),
    };
    const { searchWeb } = createSearchWeb({ ...kit, webSearch });
    await expect(inActivity(() => searchWeb(kit.turn))).resolves.toEqual({
      sources: [{ kind: 'web', title: 'T', url: 'https://x.test', text: 'S' }],
      status: 'completed',
      detail: '1 result, cached',
    });
  });

  it('is skipped when no SearxNG is configured', async () => {
    const kit = chatTurnFixture();
    const { searchWeb } = createSearchWeb(kit);
    await expect(inActivity(() => searchWeb(kit.turn))).resolves.toMatchObject({ status: 'skipped' });
  });
});
