import type { McpOAuthRecord, McpOAuthStore } from '../mcp-oauth';

/** A sign-in's record in memory, as the row would keep it. */
export interface MemoryOAuthStore extends McpOAuthStore {
  record: McpOAuthRecord;
  loads: number;
  saves: number;
}

/** A sign-in's record in memory, copied in and out as the row's sealed JSON would be; counts its loads and saves. */
export function memoryOAuthStore(initial: McpOAuthRecord = {}): MemoryOAuthStore {
  const store: MemoryOAuthStore = {
    record: initial,
    loads: 0,
    saves: 0,
    load: () => {
      store.loads += 1;
      return Promise.resolve(structuredClone(store.record));
    },
    save: (record: McpOAuthRecord) => {
      store.saves += 1;
      store.record = structuredClone(record);
      return Promise.resolve();
    },
  };
  return store;
}
