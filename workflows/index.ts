export { chatTurn } from './chat-turn.workflow';
export { ingestFile } from './ingest-file.workflow';
