import * as fc from 'fast-check';
import { ToolError } from '../tool-definition';
import { IpAddressPolicy, parseCidr, parseIp } from './ip-address-policy';

describe('IpAddressPolicy', () => {
  const policy = new IpAddressPolicy();

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'lets the public address %s through',
    (address) => {
      expect(policy.refusalReason(address)).toBeUndefined();
    },
  );

  it.each([
    ['127.255.255.254', 'a loopback address'],
    ['172.31.255.255', 'a private address'],
    ['100.127.255.255', 'a carrier-grade NAT address'],
    ['198.18.0.1', 'a benchmarking address'],
    ['192.0.2.1', 'a documentation address'],
    ['::127.0.0.1', 'a reserved address'], // deprecated IPv4-compatible form
    ['fec0::1', 'a reserved address'], // old site-local, outside 2000::/3
    ['2002:7f00:1::', 'a loopback address'], // 6to4 wrapping 127.0.0.1
    ['2001:db8::1', 'a documentation address'],
    ['ff02::1', 'a multicast address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['example.com', 'not an IP address'],
  ])('refuses %s as %s', (address, reason) => {
    expect(policy.refusalReason(address)).toBe(reason);
  });

  it('judges an IPv4-mapped IPv6 address exactly as the IPv4 address inside it', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        expect(policy.refusalReason(`::ffff:${v4}`)).toBe(policy.refusalReason(v4));
      }),
      { numRuns: 2000 },
    );
  });

  it('allows only the networks it is given, in either notation', () => {
    const local = new IpAddressPolicy(['127.0.0.1/32', 'fd00:1::/32']);
    expect(local.refusalReason('127.0.0.1')).toBeUndefined();
    expect(local.refusalReason('::ffff:127.0.0.1')).toBeUndefined();
    expect(local.refusalReason('fd00:1::5')).toBeUndefined();
    expect(local.refusalReason('127.0.0.2')).toBe('a loopback address');
    expect(local.refusalReason('10.0.0.1')).toBe('a private address');
  });

  it('throws a non-retryable ToolError naming the address', () => {
    expect(() => policy.check('10.0.0.5')).toThrow(new ToolError('Refused: 10.0.0.5 is a private address'));
    expect(() => policy.check('8.8.8.8')).not.toThrow();
  });

  it('refuses a malformed allowed network at construction', () => {
    for (const cidr of ['127.0.0.1/33', 'localhost/8', '10.0.0.0/x', '::1/129', '']) {
      expect(() => new IpAddressPolicy([cidr])).toThrow(`Invalid CIDR "${cidr}"`);
    }
    expect(parseCidr('10.0.0.0/8')).toEqual({ bytes: [10, 0, 0, 0], prefix: 8 });
  });
});

describe('parseIp', () => {
  it('expands IPv6 shorthand and embedded IPv4', () => {
    expect(parseIp('::1')).toEqual([...Array<number>(15).fill(0), 1]);
    expect(parseIp('[2001:db8::ff00:42:8329]')).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29,
    ]);
    expect(parseIp('::ffff:192.0.2.128')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 128]);
    expect(parseIp('1.2.3')).toBeUndefined();
  });
});
