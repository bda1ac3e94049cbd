export { chatTurn } from './chat-turn.workflow';
export { ingestFile } from './ingest-file.workflow';
export { purgeData } from './purge-data.workflow';
export { reembedFiles } from './reembed-files.workflow';
export { reencryptFiles } from './reencrypt-files.workflow';
export { replayConversation } from './replay-conversation.workflow';
export { replayConversations } from './replay-conversations.workflow';
