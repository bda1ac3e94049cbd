import { ApiMetrics, boundedLabel, mayScrape } from './metrics';

describe('mayScrape', () => {
  it('without a token: loopback clients only (IPv4, IPv6, IPv4-mapped)', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
      expect(mayScrape('', undefined, address)).toBe(true);
    for (const address of ['10.0.0.5', '::ffff:192.168.1.2', '2001:db8::1', undefined]) {
      expect(mayScrape('', 'Bearer anything', address)).toBe(false);
    }
  });

  it('with a token: exactly that bearer token, from anywhere, and loopback no longer suffices', () => {
    expect(mayScrape('s3cret', 'Bearer s3cret', '10.0.0.5')).toBe(true);
    for (const header of [undefined, '', 'Bearer', 'Bearer s3cre', 'Bearer s3cretx', 's3cret', 'Basic s3cret']) {
      expect(mayScrape('s3cret', header, '127.0.0.1')).toBe(false);
    }
  });
});

describe('boundedLabel', () => {
  it('keeps short codes and action names, and turns anything else into `other`', () => {
    expect(boundedLabel('auth.login_failed')).toBe('auth.login_failed');
    for (const value of ['0b8f2c1e-9a4d-4c1a-8e2f-3d5b6a7c8d9e', 'Wrong Password', 'x'.repeat(60), 42, undefined]) {
      expect(boundedLabel(value)).toBe('other');
    }
  });
});

describe('ApiMetrics', () => {
  it('counts an audited event by action and bounded reason, in the Prometheus text format', async () => {
    const metrics = new ApiMetrics();
    metrics.audited({ action: 'auth.login_failed', metadata: { reason: 'wrong_password' } });
    metrics.audited({ action: 'auth.login_failed', metadata: { reason: 'a reason with spaces and an id 123' } });
    metrics.audited({ action: 'auth.login' });
    const { body, contentType } = await metrics.exposition();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain(
      'gigachat_audit_events_total{action="auth.login_failed",reason="wrong_password",process="api"} 1',
    );
    expect(body).toContain('gigachat_audit_events_total{action="auth.login_failed",reason="other",process="api"} 1');
    expect(body).toContain('gigachat_audit_events_total{action="auth.login",reason="",process="api"} 1');
  });
});
