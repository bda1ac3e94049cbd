import type { ContextSource, SourcesOutcome } from '#libs/contracts/chat-turn.contract';
import type { ChatActivityContext } from './chat-activity-deps';
import { contextGone } from './load-context.activity';
import { counted, runSourcesStep, type SourcesRequest } from './sources-step';

/** Passages from the user's own files (libs/retrieval's HybridRetriever). */
export interface FileRetriever {
  search(
    userId: string,
    query: string,
    options: { fileIds?: string[]; topK: number },
  ): Promise<{
    mode: 'hybrid' | 'lexical';
    chunks: { chunkId: string; fileId: string; fileName: string; heading: string | null; content: string }[];
    degradedReason?: string;
  }>;
}

export interface RetrieveFromFilesDeps extends ChatActivityContext {
  /** Without it the retrieval step is skipped. */
  retriever?: FileRetriever;
  /** Passages from files per turn (RETRIEVAL_TOP_K). */
  retrievalTopK?: number;
}

export function createRetrieveFromFiles(deps: RetrieveFromFilesDeps) {
  const { db } = deps;
  return {
    /** The passages of the sender's files that best match the message (hybrid lexical + vector search). */
    async retrieveFromFiles(turn: SourcesRequest): Promise<SourcesOutcome> {
      return runSourcesStep(deps, turn, 'retrieval', async () => {
        const retriever = deps.retriever;
        if (!retriever) return { sources: [], status: 'skipped', detail: 'retrieval is not configured' };
        // Most turns are of users with no files: skip the FULLTEXT match (it spans every user's chunks) and the
        // embedding call for the query.
        if (!(await db.files.hasReadyFiles(turn.userId, turn.fileIds))) {
          return { sources: [], status: 'skipped', detail: 'no ready files' };
        }
        const query = await db.messages.contentOf(turn.userMessageId, turn.conversationId);
        if (query === undefined) throw contextGone(`Message ${turn.userMessageId}`);
        const found = await retriever.search(turn.userId, query, {
          fileIds: turn.fileIds,
          topK: deps.retrievalTopK ?? 5,
        });
        const sources: ContextSource[] = found.chunks.map((chunk) => ({
          kind: 'file',
          title: chunk.heading ? `${chunk.fileName} › ${chunk.heading}` : chunk.fileName,
          fileId: chunk.fileId,
          chunkId: chunk.chunkId,
          text: chunk.content,
        }));
        const degraded = found.degradedReason ? ` (vector search unavailable: ${found.degradedReason})` : '';
        return {
          sources,
          status: 'completed',
          detail: `${counted(sources.length, 'passage')}, ${found.mode}${degraded}`,
        };
      });
    },
  };
}
