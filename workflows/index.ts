export { chatTurn } from './chat-turn.workflow';
export { ingestFile } from './ingest-file.workflow';
export { purgeData } from './purge-data.workflow';
export { reembedFiles } from './reembed-files.workflow';
