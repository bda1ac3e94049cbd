/** Branches of a conversation's message tree, for ‹ 2/3 › navigation. Pure: unit-tested in branches.spec.ts. */

export interface TreeMessage {
  id: string;
  parentId: string | null;
  role: string;
  createdAt: string;
}

export interface Siblings {
  /** 1-based position of the message among its siblings. */
  index: number;
  count: number;
  previous?: string;
  next?: string;
}

const byAge = (a: TreeMessage, b: TreeMessage): number =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

export class MessageTree<M extends TreeMessage> {
  private readonly children = new Map<string | null, M[]>();
  private readonly byId = new Map<string, M>();

  constructor(messages: readonly M[]) {
    for (const message of [...messages].sort(byAge)) {
      this.byId.set(message.id, message);
      const list = this.children.get(message.parentId) ?? [];
      list.push(message);
      this.children.set(message.parentId, list);
    }
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The alternatives to a message: the same role under the same parent (an edit or a regenerated answer). */
  siblings(id: string): Siblings {
    const message = this.byId.get(id);
    if (!message) return { index: 1, count: 1 };
    const list = (this.children.get(message.parentId) ?? []).filter((m) => m.role === message.role);
    const at = list.findIndex((m) => m.id === id);
    return {
      index: at + 1,
      count: list.length,
      ...(at > 0 ? { previous: list[at - 1]!.id } : {}),
      ...(at < list.length - 1 ? { next: list[at + 1]!.id } : {}),
    };
  }

  /** The message to make current when switching to `id`: its newest descendant, following the newest child down. */
  leafOf(id: string): string {
    let current = id;
    for (let guard = 0; guard < 100_000; guard++) {
      const kids = this.children.get(current);
      if (!kids || kids.length === 0) return current;
      current = kids[kids.length - 1]!.id;
    }
    return current;
  }
}
