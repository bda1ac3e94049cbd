import { allows, effectivePermission } from './conversation-permission';

describe('conversation permissions', () => {
  const conversation = { ownerId: 'owner-1' };

  it('makes the owner the owner, whatever the shares say', () => {
    expect(effectivePermission(conversation, 'owner-1', null)).toBe('owner');
    expect(effectivePermission(conversation, 'owner-1', { permission: 'read' })).toBe('owner');
  });

  it("gives anyone else exactly their share's permission, or nothing", () => {
    expect(effectivePermission(conversation, 'u2', { permission: 'read' })).toBe('read');
    expect(effectivePermission(conversation, 'u2', { permission: 'write' })).toBe('write');
    expect(effectivePermission(conversation, 'u2', null)).toBeUndefined();
    expect(effectivePermission(conversation, 'u2', undefined)).toBeUndefined();
  });

  it('orders owner ⊇ write ⊇ read', () => {
    const table = (['read', 'write', 'owner'] as const).map((held) =>
      (['read', 'write', 'owner'] as const).map((need) => allows(held, need)),
    );
    expect(table).toEqual([
      [true, false, false],
      [true, true, false],
      [true, true, true],
    ]);
  });
});
