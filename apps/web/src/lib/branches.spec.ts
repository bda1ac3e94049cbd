import { describe, expect, it } from '@jest/globals';
import { MessageTree } from './branches';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const m = (id: string, parentId: string | null, role: string, s: number) => ({ id, parentId, role, createdAt: at(s) });

/*
 * u1 ─ a1
 *    ├ a2 (regenerated) ─ u3 ─ a4
 *    └ a3 (regenerated)
 * u2 (u1 edited, a new root) ─ a5
 */
const tree = new MessageTree([
  m('a3', 'u1', 'assistant', 4),
  m('u1', null, 'user', 0),
  m('a1', 'u1', 'assistant', 1),
  m('a2', 'u1', 'assistant', 2),
  m('u3', 'a2', 'user', 3),
  m('a4', 'u3', 'assistant', 5),
  m('u2', null, 'user', 6),
  m('a5', 'u2', 'assistant', 7),
]);

describe('MessageTree', () => {
  it('numbers regenerated answers oldest first, with the neighbours to switch to', () => {
    expect(tree.siblings('a1')).toEqual({ index: 1, count: 3, next: 'a2' });
    expect(tree.siblings('a2')).toEqual({ index: 2, count: 3, previous: 'a1', next: 'a3' });
    expect(tree.siblings('a3')).toEqual({ index: 3, count: 3, previous: 'a2' });
  });

  it('counts an edited first message as a sibling root', () => {
    expect(tree.siblings('u1')).toEqual({ index: 1, count: 2, next: 'u2' });
    expect(tree.siblings('u2')).toEqual({ index: 2, count: 2, previous: 'u1' });
  });

  it('shows a message without alternatives as 1 of 1', () => {
    expect(tree.siblings('u3')).toEqual({ index: 1, count: 1 });
    expect(tree.siblings('missing')).toEqual({ index: 1, count: 1 });
  });

  it('switches to the newest leaf below the chosen version', () => {
    expect(tree.leafOf('a2')).toBe('a4');
    expect(tree.leafOf('u1')).toBe('a3'); // the newest answer to u1 has no continuation
    expect(tree.leafOf('u2')).toBe('a5');
    expect(tree.leafOf('a4')).toBe('a4');
  });
});
