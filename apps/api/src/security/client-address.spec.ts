import * as fc from 'fast-check';
import { clientAddressKey } from './client-address';

describe('clientAddressKey', () => {
  it('keys IPv4 addresses one by one', () => {
    expect(clientAddressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddressKey('127.0.0.1')).toBe('127.0.0.1');
  });

  it('keys IPv4-mapped IPv6 addresses as their IPv4 address', () => {
    expect(clientAddressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddressKey('::FFFF:cb00:7107')).toBe('203.0.113.7');
  });

  it('keys IPv6 addresses by their /64', () => {
    expect(clientAddressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('2001:db8:1:2::ffff')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('2001:DB8:1:2:aaaa::1%eth0')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientAddressKey('::1')).toBe('0:0:0:0::/64');
    expect(clientAddressKey('fe80::1:2:3.4.5.6')).toBe('fe80:0:0:0::/64');
  });

  it('hashes anything that is not an address, so keys stay short', () => {
    const key = clientAddressKey('x'.repeat(10_000));
    expect(key).toMatch(/^other:[0-9a-f]{32}$/);
    expect(clientAddressKey('not-an-ip')).not.toBe(clientAddressKey('not-an-ip2'));
    expect(clientAddressKey(undefined)).toBe('unknown');
    expect(clientAddressKey('')).toBe('unknown');
  });

  it('puts every address of one /64 under one key, and different /64s under different keys', () => {
    fc.assert(
      fc.property(
        fc.ipV6(),
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 4 }),
        (ip, low) => {
          const key = clientAddressKey(ip);
          if (!key.endsWith('::/64')) return; // IPv4-mapped
          const prefix = key.slice(0, -'::/64'.length);
          expect(clientAddressKey(`${prefix}:${low.map((g) => g.toString(16)).join(':')}`)).toBe(key);
          expect(key.length).toBeLessThanOrEqual(24);
        },
      ),
    );
  });
});
