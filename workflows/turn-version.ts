import { patched } from '@temporalio/workflow';
import type { ChatTurnInput } from '#libs/contracts/chat-turn.contract';

/**
 * Whether the turn runs the change made under `patchId`: every turn started with a version does (see
 * `CHAT_TURN_VERSION`; no marker is recorded), and a turn started before versions runs it as its history says (a
 * marker when it first ran with the change).
 */
export function runsChange(input: ChatTurnInput, patchId: string): boolean {
  return (input.version ?? 0) >= 1 || patched(patchId);
}

/**
 * Whether the turn was started at `version` or later (`CHAT_TURN_VERSION`): such a turn runs that version's steps,
 * and one started before runs the steps its history recorded.
 */
export function startedAtVersion(input: ChatTurnInput, version: number): boolean {
  return (input.version ?? 0) >= version;
}
