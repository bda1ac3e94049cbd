export { chatTurn } from './chat-turn.workflow';
