import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configSchema } from '#libs/config/config.schema';
import { API } from './support/api';
import { auditRows, type Harness, startHarness } from './support/harness';

/*
 * What an operator deploys with: docker-compose.yml as `docker compose config` (the real Compose v2, pinned in
 * deploy/tools.sh) resolves it, the local services script's reading of GigaChat's configuration, and the two settings
 * that change who reaches the API (TRUST_PROXY, REGISTRATION) through real HTTP.
 */

const ROOT = resolve(__dirname, '..');

interface ComposeService {
  image: string;
  profiles?: string[];
  restart?: string;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  secrets?: { source: string; target?: string }[];
  healthcheck?: { test: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  ports?: { host_ip?: string; published?: string; target: number }[];
  configs?: { source: string; target: string }[];
  read_only?: boolean;
  user?: string;
}
interface ComposeProject {
  services: Record<string, ComposeService>;
  configs: Record<string, { content: string }>;
}

/** docker-compose.yml with every profile, resolved by Compose itself (no .env of the checkout: the defaults). */
function composeConfig(): ComposeProject {
  const compose = execFileSync('bash', [resolve(ROOT, 'deploy/tools.sh'), 'path', 'compose'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const json = execFileSync(
    compose,
    ['--env-file', '/dev/null', '--profile', 'proxy', '--profile', 'monitoring', 'config', '--format', 'json'],
    { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' } },
  );
  return JSON.parse(json) as ComposeProject;
}

/** `deploy/services.sh config` with this environment, as key → value. */
function servicesConfig(env: Record<string, string>, ...args: string[]): Record<string, string> {
  const out = execFileSync('bash', [resolve(ROOT, 'deploy/services.sh'), 'config', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
  });
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );
}

describe('docker-compose.yml', () => {
  let project: ComposeProject;
  beforeAll(() => {
    project = composeConfig();
  }, 300_000);

  const app = ['api', 'worker', 'migrate'];
  const oneShot = (service: ComposeService) => service.restart?.startsWith('on-failure') ?? false;

  it('is valid for Compose, every profile on', () => {
    expect(Object.keys(project.services).sort()).toEqual([
      'api',
      'caddy',
      'grafana',
      'migrate',
      'mysql',
      'prometheus',
      'redis',
      'searxng',
      'seaweedfs',
      'temporal',
      'temporal-namespace',
      'temporal-schema',
      'temporal-ui',
      'worker',
    ]);
  });

  it('pins every image it pulls to a release tag (no latest, no bare major like redis:7), never auto-setup', () => {
    // x.y.z releases; SearXNG's date-and-commit tags; SeaweedFS, whose releases are numbered x.yy.
    const release = /^[a-z0-9./-]+:(v?\d+\.\d+\.\d+(-[a-z0-9.]+)?|\d{4}\.\d{1,2}\.\d{1,2}-[0-9a-f]{7,})$/;
    for (const [name, service] of Object.entries(project.services)) {
      if (app.includes(name)) continue; // built from deploy/docker/Dockerfile
      const pattern = service.image.startsWith('chrislusf/seaweedfs:') ? /^chrislusf\/seaweedfs:\d+\.\d{2}$/ : release;
      expect([name, service.image]).toEqual([name, expect.stringMatching(pattern)]);
    }
    expect(Object.values(project.services).some((service) => service.image.includes('auto-setup'))).toBe(false);
  });

  it('gives every long-running service a healthcheck, the worker one on its metrics port', () => {
    for (const [name, service] of Object.entries(project.services)) {
      if (oneShot(service)) continue;
      expect([name, Array.isArray(service.healthcheck?.test)]).toEqual([name, true]);
    }
    const worker = project.services.worker!;
    expect(worker.environment).toMatchObject({ WORKER_METRICS_PORT: '9464' });
    expect(worker.healthcheck!.test.join(' ')).toContain('127.0.0.1:9464/health/live');
  });

  it('starts Temporal from a schema job, as a MySQL user that is not root, with eager activities', () => {
    const { temporal, 'temporal-schema': schema, mysql } = project.services;
    expect(temporal!.environment).toMatchObject({ DB: 'mysql8', MYSQL_USER: 'temporal' });
    expect(temporal!.depends_on!['temporal-schema']).toEqual(
      expect.objectContaining({ condition: 'service_completed_successfully' }),
    );
    expect(schema!.image).toMatch(/^temporalio\/admin-tools:/);
    expect(schema!.command!.join('\n')).toMatch(/temporal-sql-tool .*-u temporal/);
    expect(mysql!.configs!.map((config) => config.target)).toContain('/docker-entrypoint-initdb.d/10-temporal-user.sh');
    expect(project.configs['mysql-temporal-user']!.content).toContain("CREATE USER IF NOT EXISTS 'temporal'@'%'");
    expect(project.configs['temporal-dynamic-config']!.content).toMatch(
      /system\.enableActivityEagerExecution:\n\s+- value: true/,
    );
  });

  it('runs Temporal with the dynamic config of the development server (deploy/services.sh)', () => {
    const script = readFileSync(resolve(ROOT, 'deploy/services.sh'), 'utf8');
    const values = [...script.matchAll(/--dynamic-config-value ([\w.]+)=(\w+)/g)].map((match) => ({
      key: match[1]!,
      value: match[2]!,
    }));
    expect(values.map(({ key }) => key)).toEqual(
      expect.arrayContaining(['matching.numTaskqueueReadPartitions', 'history.transferProcessorMaxPollRPS']),
    );
    const content = project.configs['temporal-dynamic-config']!.content;
    for (const { key, value } of values) {
      expect([key, new RegExp(`${key.replace(/\./g, '\\.')}:\\n\\s+- value: ${value}\\n`).test(content)]).toEqual([
        key,
        true,
      ]);
    }
  });

  it('hands GigaChat its secrets only as <NAME>_FILE secrets, and only variables it reads', () => {
    const known = new Set(Object.keys(configSchema.shape));
    // Served by the observability work (the worker's health and metrics port); the image's HEALTHCHECK reads it.
    const expected = new Set(['WORKER_METRICS_PORT', 'HEALTHCHECK_PORT']);
    for (const name of app) {
      const service = project.services[name]!;
      const environment = service.environment ?? {};
      expect([name, Object.keys(environment).filter((key) => !known.has(key) && !expected.has(key))]).toEqual([
        name,
        [],
      ]);
      for (const secret of ['DATABASE_URL', 'REDIS_URL', 'S3_SECRET_KEY', 'PASETO_KEYS', 'PASSWORD_PEPPER']) {
        expect([name, secret, environment[secret]]).toEqual([name, secret, undefined]);
        const path = environment[`${secret}_FILE`];
        expect([name, path]).toEqual([name, expect.stringMatching(/^\/run\/secrets\/[a-z0-9_]+$/)]);
        const mounted = service.secrets!.map((s) =>
          s.target?.startsWith('/') ? s.target : `/run/secrets/${s.source}`,
        );
        expect(mounted).toContain(path);
      }
      expect(service.read_only).toBe(true);
    }
    expect(project.services.api!.environment).toMatchObject({ NODE_ENV: 'production', REGISTRATION: 'invite' });
  });

  it('publishes only the API (on 127.0.0.1 by default), the proxy, and loopback-only tools', () => {
    const published = Object.entries(project.services).flatMap(([name, service]) =>
      (service.ports ?? []).map((port) => `${name} ${port.host_ip ?? '0.0.0.0'}:${port.published}`),
    );
    expect(published.sort()).toEqual([
      'api 127.0.0.1:3000',
      'caddy 0.0.0.0:443',
      'caddy 0.0.0.0:443',
      'caddy 0.0.0.0:80',
      'grafana 127.0.0.1:3001',
      'prometheus 127.0.0.1:9090',
      'temporal 127.0.0.1:7233',
      'temporal-ui 127.0.0.1:8233',
    ]);
  });
});

describe('deploy/services.sh reads GigaChat’s configuration', () => {
  it('checks MySQL and Redis where DATABASE_URL and REDIS_URL point, and starts a local Temporal dev server', () => {
    expect(servicesConfig({})).toMatchObject({
      mysql_host: '127.0.0.1',
      mysql_port: '3306',
      mysql_user: 'root',
      redis_host: '127.0.0.1',
      redis_port: '6379',
      temporal_address: '127.0.0.1:7233',
      temporal_namespace: 'default',
      temporal_started_here: 'yes',
    });
    expect(
      servicesConfig({
        DATABASE_URL: 'mysql://gc:p%40ss@db.internal:3307/gigachat',
        REDIS_URL: 'redis://:secret@cache.internal:6380/2',
        TEMPORAL_ADDRESS: 'gigachat.a1b2c.tmprl.cloud:7233',
        TEMPORAL_NAMESPACE: 'gigachat.a1b2c',
      }),
    ).toMatchObject({
      mysql_host: 'db.internal',
      mysql_port: '3307',
      mysql_user: 'gc',
      redis_host: 'cache.internal',
      redis_port: '6380',
      temporal_address: 'gigachat.a1b2c.tmprl.cloud:7233',
      temporal_namespace: 'gigachat.a1b2c',
      temporal_started_here: 'no',
    });
  });

  it('builds and starts SeaweedFS only when S3_ENDPOINT is local, or with --s3', () => {
    expect(servicesConfig({})).toMatchObject({ seaweedfs: 'no' });
    expect(servicesConfig({ S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com' })).toMatchObject({ seaweedfs: 'no' });
    expect(servicesConfig({ S3_ENDPOINT: 'http://127.0.0.1:8333' })).toMatchObject({
      seaweedfs: 'yes',
      s3_url: 'http://127.0.0.1:8333',
    });
    expect(servicesConfig({}, '--s3')).toMatchObject({ seaweedfs: 'yes', s3_url: 'http://127.0.0.1:8333' });
  });
});

describe('TRUST_PROXY and REGISTRATION through HTTP', () => {
  const strangers = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
  /** Failed logins from three clients, as a proxy on this host would forward them. */
  async function failedLogins(h: Harness): Promise<number[]> {
    const statuses: number[] = [];
    for (const ip of strangers) {
      const res = await h.http
        .post(`${API}/auth/login`)
        .set('X-Forwarded-For', ip)
        .send({ email: `nobody.${ip}@example.com`, password: 'wrong wrong wrong' });
      statuses.push(res.status);
    }
    return statuses;
  }
  const loginFailures = (h: Harness) =>
    h.db.query<{ ip: string }[]>("SELECT ip FROM audit_log WHERE action = 'auth.login_failed' ORDER BY id");

  it('TRUST_PROXY=false: X-Forwarded-For is ignored, so every client shares the proxy’s address and bucket', async () => {
    const h = await startHarness('trust_off', {
      worker: false,
      fakeLlm: false,
      env: { TRUST_PROXY: 'false', RATE_LIMIT_AUTH_MAX: '2', REGISTRATION: 'closed' },
    });
    try {
      const closed = await h.http
        .post(`${API}/auth/register`)
        .set('X-Forwarded-For', '198.51.100.9')
        .send({ email: 'ada@example.com', password: 'correct horse battery staple', displayName: 'Ada' });
      expect([closed.status, closed.body.code]).toEqual([403, 'forbidden']);
      expect(closed.body.detail).toMatch(/closed/);

      // Three more clients behind the proxy: all counted as the proxy itself, against one limit of 2.
      expect(await failedLogins(h)).toEqual([401, 429, 429]);
      expect((await loginFailures(h)).map((row) => row.ip)).toEqual([expect.stringMatching(/127\.0\.0\.1$/)]);
    } finally {
      await h.close();
    }
  });

  it('the default (loopback): a proxy on this host names each client, each with its own bucket', async () => {
    const h = await startHarness('trust_loopback', {
      worker: false,
      fakeLlm: false,
      env: { RATE_LIMIT_AUTH_MAX: '2' },
    });
    try {
      expect(await failedLogins(h)).toEqual([401, 401, 401]);
      expect((await loginFailures(h)).map((row) => row.ip)).toEqual(strangers);
      const registered = await h.http
        .post(`${API}/auth/register`)
        .send({ email: 'ada@example.com', password: 'correct horse battery staple', displayName: 'Ada' });
      expect([registered.status, registered.body.user.role]).toEqual([201, 'admin']);
      expect(await auditRows(h, 'user.registered', registered.body.user.id as string)).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});
