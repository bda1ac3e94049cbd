import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { load } from 'js-yaml';
import { AccessTokenCodec } from '#libs/auth/access-token';
import { loadConfig } from '#libs/config/load-config';
import { MIGRATIONS, migrateDatabase } from '#libs/db/data-source';
import { createObjectStore } from '#libs/storage/create-object-store';
import { objectKeyFor } from '#libs/storage/object-store';
import { FAKE_EMBEDDING_DIMENSIONS, type FakeEmbeddings, startFakeEmbeddings } from './fakes/fake-embeddings.server';
import { API } from './support/api';
import { runCli } from './support/cli';
import { recordHistory } from './support/histories';
import { auditRows, type Harness, startHarness, waitFor } from './support/harness';

/*
 * The operator CLI (`npm run gigachat -- …`) as operators run it: `dist/apps/cli/src/main.js` in child processes, with
 * the configuration of a real stack (MySQL, Redis, Temporal, S3) whose API and worker run in this process; its batch
 * commands start the real workflows on this stack's task queues. Needs `npm run build` first.
 */

const PASSWORD = 'correct horse operator staple';
const DAY_MS = 86_400_000;

/** The last `key: value` of a CLI output with that key. */
function field(output: string, key: string): string {
  const line = output
    .split('\n')
    .reverse()
    .find((each) => each.startsWith(`${key}`));
  if (!line) throw new Error(`no "${key}" in:\n${output}`);
  return line.slice(line.lastIndexOf(' ') + 1).trim();
}

describe('operator CLI', () => {
  let h: Harness;
  let embeddings: FakeEmbeddings;
  const cli = (args: string[], stdin?: string, env: Record<string, string> = {}) =>
    runCli({ ...h.env, ...env }, args, stdin);
  const login = (email: string, password: string) => h.http.post(`${API}/auth/login`).send({ email, password });

  beforeAll(async () => {
    embeddings = await startFakeEmbeddings();
    h = await startHarness('cli', {
      s3: true,
      env: {
        REGISTRATION: 'invite',
        // Every test here signs users up and in from one address: the auth rate limit (20 a minute) is not the subject.
        RATE_LIMIT_AUTH_MAX: '1000',
        EMBEDDING_BASE_URL: embeddings.url,
        EMBEDDING_MODEL: 'fake-embed-b',
        EMBEDDING_DIMENSIONS: String(FAKE_EMBEDDING_DIMENSIONS),
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await embeddings?.close();
  });

  describe('help', () => {
    it('lists every command, and each explains itself with --help', async () => {
      const overview = await cli(['--help']);
      expect(overview.code).toBe(0);
      const names = [...overview.stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((match) => match[1]!);
      expect(names).toEqual([
        'secrets',
        'create-admin',
        'invite',
        'disable-user',
        'enable-user',
        'promote-user',
        'demote-user',
        'reset-password',
        'rotate-key',
        'reembed',
        'reencrypt-files',
        'purge',
        'migrations',
      ]);
      for (const name of names) {
        const help = await cli([name, '--help']);
        expect([name, help.code, help.stdout]).toEqual([name, 0, expect.stringContaining(`usage: gigachat ${name}`)]);
      }
    });

    it('answers 2 with the usage for an unknown command or option', async () => {
      expect(await cli(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command') });
      expect(await cli(['invite', '--bogus'])).toMatchObject({ code: 2, stderr: expect.stringContaining('usage:') });
      expect(await cli(['invite'])).toMatchObject({ code: 2, stderr: expect.stringContaining('missing <email>') });
    });
  });

  describe('secrets', () => {
    it('prints a set a production configuration accepts', async () => {
      const run = await cli(['secrets']);
      expect(run.code).toBe(0);
      const env = Object.fromEntries(
        run.stdout
          .trim()
          .split('\n')
          .map((line) => line.split(/=(.*)/s).slice(0, 2)),
      );
      expect(Object.keys(env)).toEqual([
        'PASETO_KEYS',
        'PASETO_CURRENT_KEY_ID',
        'PASSWORD_PEPPER',
        'TOTP_ENCRYPTION_KEY',
        'TEMPORAL_PAYLOAD_KEYS',
        'FILES_ENCRYPTION_KEYS',
      ]);
      const config = loadConfig({ NODE_ENV: 'production', ...env });
      expect(config.temporal.payloadKeys.map((key) => key.id)).toEqual(['p1']);
      expect(config.files.encryptionKeys.map((key) => key.id)).toEqual(['f1']);
      expect(config.auth.tokenKeys.map((key) => key.id)).toEqual(['k1']);
      expect(config.auth.totpEncryptionKey).toHaveLength(32);
      expect((await cli(['secrets'])).stdout).not.toBe(run.stdout);
    });

    it('writes private files for the compose deployment, keeps them on a rerun, and *_FILE reads them', async () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'gc-secrets-')), 'secrets');
      const first = await cli(['secrets', '--dir', dir]);
      expect(first.code).toBe(0);
      for (const name of ['paseto_keys', 'password_pepper', 'totp_encryption_key', 'database_url', 'mysql_password']) {
        expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
      }
      // Exactly the secret files docker-compose.yml reads.
      const compose = load(readFileSync(resolve(__dirname, '../docker-compose.yml'), 'utf8')) as {
        secrets: Record<string, { file: string }>;
      };
      expect(readdirSync(dir).sort()).toEqual(
        Object.values(compose.secrets)
          .map((secret) => secret.file.replace('./deploy/docker/secrets/', ''))
          .sort(),
      );
      const pepper = readFileSync(join(dir, 'password_pepper'), 'utf8');
      const again = await cli(['secrets', '--dir', dir]);
      expect(again.stdout).toContain('kept');
      expect(readFileSync(join(dir, 'password_pepper'), 'utf8')).toBe(pepper);
      const config = loadConfig({
        NODE_ENV: 'production',
        PASETO_KEYS_FILE: join(dir, 'paseto_keys'),
        PASSWORD_PEPPER_FILE: join(dir, 'password_pepper'),
        TOTP_ENCRYPTION_KEY_FILE: join(dir, 'totp_encryption_key'),
        TEMPORAL_PAYLOAD_KEYS_FILE: join(dir, 'temporal_payload_keys'),
        FILES_ENCRYPTION_KEYS_FILE: join(dir, 'files_encryption_keys'),
        DATABASE_URL_FILE: join(dir, 'database_url'),
      });
      expect(config.auth.passwordPepper).toBe(pepper.trim());
      expect(config.database.url).toMatch(/^mysql:\/\/gigachat:[0-9a-f]{48}@mysql:3306\/gigachat$/);
    });
  });

  describe('accounts', () => {
    it('creates the first admin whatever REGISTRATION says, once', async () => {
      const created = await cli(['create-admin', 'Root@Example.com', '--name', 'Root', '--password-stdin'], PASSWORD);
      expect(created).toMatchObject({ code: 0, stdout: expect.stringContaining('admin created: root@example.com') });
      expect(created.stdout).not.toContain(PASSWORD);
      const session = await login('root@example.com', PASSWORD);
      expect(session.status).toBe(200);
      const me = await h.http.get(`${API}/auth/me`).set('Authorization', `Bearer ${session.body.accessToken}`);
      expect(me.body).toMatchObject({ email: 'root@example.com', displayName: 'Root', role: 'admin' });

      const second = await cli(['create-admin', 'other@example.com']);
      expect(second).toMatchObject({ code: 1, stderr: expect.stringContaining('an enabled admin exists already') });
      const [row] = await auditRows(h, 'user.created', me.body.id as string);
      expect(row).toEqual({ actorId: null, metadata: { role: 'admin', by: 'cli' } });
    });

    it('generates and prints a password when none is given', async () => {
      const h2 = { ...h.env, DATABASE_URL: `${h.env.DATABASE_URL}_fresh` };
      await migrateDatabase(h2.DATABASE_URL);
      try {
        const run = await runCli(h2, ['create-admin', 'ops@example.com']);
        expect(run.code).toBe(0);
        expect(field(run.stdout, 'password')).toMatch(/^[A-Za-z0-9_-]{24}$/);
      } finally {
        await h.db.query(`DROP DATABASE IF EXISTS \`${h2.DATABASE_URL.split('/').pop()}\``);
      }
    });

    it('invites: REGISTRATION=invite refuses registering without the code, and the code works once', async () => {
      const body = { email: 'ada@example.com', password: PASSWORD, displayName: 'Ada' };
      const refused = await h.http.post(`${API}/auth/register`).send(body);
      expect([refused.status, refused.body.code]).toEqual([403, 'forbidden']);

      const invited = await cli(['invite', 'ada@example.com', '--days', '3']);
      expect(invited.code).toBe(0);
      const code = field(invited.stdout, 'code');
      expect(code).toMatch(/^gci_/);
      const registered = await h.http.post(`${API}/auth/register`).send({ ...body, inviteCode: code });
      expect([registered.status, registered.body.user.role]).toEqual([201, 'user']);
      const reused = await h.http
        .post(`${API}/auth/register`)
        .send({ ...body, email: 'eve@example.com', inviteCode: code });
      expect([reused.status, reused.body.code]).toEqual([403, 'forbidden']);

      const invitationId = invited.stdout.match(/invitation ([0-9a-f-]{36})/)![1]!;
      expect(await auditRows(h, 'invitation.created', invitationId)).toEqual([
        { actorId: null, metadata: { role: 'user', expiresAt: expect.any(String), by: 'cli' } },
      ]);
      expect(await auditRows(h, 'user.registered', registered.body.user.id as string)).toEqual([
        { actorId: registered.body.user.id, metadata: { invitation: invitationId, role: 'user' } },
      ]);
    });

    it('disables (only with --yes: no terminal to ask on), enables, promotes and demotes, ending sessions', async () => {
      const bobCode = field((await cli(['invite', 'bob@example.com'])).stdout, 'code');
      await h.http
        .post(`${API}/auth/register`)
        .send({ email: 'bob@example.com', password: PASSWORD, displayName: 'Bob', inviteCode: bobCode });
      const token = `Bearer ${(await login('bob@example.com', PASSWORD)).body.accessToken}`;

      const unconfirmed = await cli(['disable-user', 'bob@example.com']);
      expect(unconfirmed).toMatchObject({ code: 1, stderr: expect.stringContaining('Refusing without --yes') });
      expect((await h.http.get(`${API}/auth/me`).set('Authorization', token)).status).toBe(200);

      expect((await cli(['disable-user', 'bob@example.com', '--yes'])).stdout).toContain(
        'bob@example.com: role user, disabled',
      );
      expect((await h.http.get(`${API}/auth/me`).set('Authorization', token)).status).toBe(401);
      expect((await login('bob@example.com', PASSWORD)).status).toBe(401);

      expect((await cli(['enable-user', 'bob@example.com'])).code).toBe(0);
      expect((await cli(['promote-user', 'bob@example.com'])).stdout).toContain('role admin, enabled');
      const admin = await login('bob@example.com', PASSWORD);
      expect(admin.status).toBe(200);
      expect((await cli(['demote-user', 'bob@example.com', '--yes'])).stdout).toContain('role user');
      const me = await h.http.get(`${API}/auth/me`).set('Authorization', `Bearer ${admin.body.accessToken}`);
      expect(me.status).toBe(401);

      const bobId = (await h.db.query('SELECT id FROM users WHERE email = ?', ['bob@example.com']))[0].id as string;
      expect((await auditRows(h, 'user.disabled', bobId)).map((row) => row.actorId)).toEqual([null]);
      expect(await auditRows(h, 'user.role_changed', bobId)).toEqual([
        { actorId: null, metadata: { from: 'user', to: 'admin' } },
        { actorId: null, metadata: { from: 'admin', to: 'user', revokedSessions: 1 } },
      ]);
      expect(await cli(['disable-user', 'nobody@example.com', '--yes'])).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('no account has the address nobody@example.com'),
      });
    });

    it('resets a password: the old one stops working and every session ends', async () => {
      const token = `Bearer ${(await login('ada@example.com', PASSWORD)).body.accessToken}`;
      const newPassword = 'a brand new operator passphrase';
      const reset = await cli(['reset-password', 'ada@example.com', '--password-stdin', '--yes'], `${newPassword}\n`);
      expect(reset).toMatchObject({
        code: 0,
        stdout: expect.stringContaining('password replaced, 1 session(s) ended'),
      });
      expect((await h.http.get(`${API}/auth/me`).set('Authorization', token)).status).toBe(401);
      expect((await login('ada@example.com', PASSWORD)).status).toBe(401);
      expect((await login('ada@example.com', newPassword)).status).toBe(200);
      const weak = await cli(['reset-password', 'ada@example.com', '--password-stdin', '--yes'], 'short');
      expect(weak).toMatchObject({ code: 1, stderr: expect.stringContaining('not accepted') });
    });
  });

  describe('rotate-key', () => {
    it('adds, switches and retires keys in PASETO_KEYS_FILE, with tokens of the old key valid until retired', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'gc-keys-')), 'paseto_keys');
      writeFileSync(file, `${h.env.PASETO_KEYS}\n`, { mode: 0o600 });
      const env = { PASETO_KEYS: '', PASETO_KEYS_FILE: file };
      const codecOf = () => {
        const config = loadConfig({ ...h.env, ...env });
        return new AccessTokenCodec({ ...config.auth, keys: config.auth.tokenKeys, ttlSeconds: 900 });
      };
      const old = await codecOf().issue({ sub: 'u1', sid: 's1', role: 'user' });

      expect((await cli(['rotate-key', 'add'], '', env)).stdout).toContain('current key: t1');
      expect(loadConfig({ ...h.env, ...env }).auth.tokenKeys.map((key) => key.id)).toEqual(['t1', 'k2']);
      expect(statSync(file).mode & 0o777).toBe(0o600);

      expect((await cli(['rotate-key', 'switch', 'k2'], '', env)).stdout).toContain('current key: k2');
      const switched = loadConfig({ ...h.env, ...env });
      expect([switched.auth.currentKeyId, switched.auth.tokenKeys.map((key) => key.id)]).toEqual(['k2', ['k2', 't1']]);
      await expect(codecOf().verify(old.token)).resolves.toMatchObject({ sub: 'u1' });

      expect((await cli(['rotate-key', 'retire', 'k2', '--yes'], '', env)).stderr).toContain('is the current key');
      expect((await cli(['rotate-key', 'retire', 't1'], '', env)).code).toBe(1); // no --yes, no terminal
      expect((await cli(['rotate-key', 'retire', 't1', '--yes'], '', env)).code).toBe(0);
      expect(loadConfig({ ...h.env, ...env }).auth.tokenKeys.map((key) => key.id)).toEqual(['k2']);
      await expect(codecOf().verify(old.token)).rejects.toThrow();
    });

    it('prints the new value when the keys do not come from a file', async () => {
      const run = await cli(['rotate-key', 'add', '--key-id', 'next']);
      const value = field(run.stdout, 'PASETO_KEYS=').replace(/^PASETO_KEYS=/, '');
      expect(value.split(',').map((entry) => entry.split(':')[0])).toEqual(['t1', 'next']);
    });
  });

  describe('batch workflows', () => {
    /**
     * `RECORD_HISTORIES=1 npx jest test/cli.e2e-spec.ts -t 'batch workflows'` writes the finished run's history (the
     * workflow the command printed as `started <workflowId>`) as a replay fixture (test/replay.e2e-spec.ts).
     */
    function recordIfAsked(stdout: string, fixture: string): void {
      if (process.env.RECORD_HISTORIES !== '1') return;
      const workflowId = /^started (\S+)/m.exec(stdout)![1]!;
      recordHistory(workflowId, h.config.temporal.address, resolve(__dirname, 'fixtures/histories', fixture));
    }

    async function upload(auth: string, name: string): Promise<string> {
      const res = await h.http
        .post(`${API}/files`)
        .set('Authorization', auth)
        .attach('file', Buffer.from(`# ${name}\n\nThe passport renewal takes three weeks; budget for it.\n`), {
          filename: name,
          contentType: 'text/markdown',
        });
      expect(res.status).toBe(202);
      const id = res.body.id as string;
      await waitFor(async () => {
        const got = await h.http.get(`${API}/files/${id}`).set('Authorization', auth);
        return got.body.status === 'ready' ? true : undefined;
      }, 60_000);
      return id;
    }

    async function invitedUser(email: string) {
      const code = field((await cli(['invite', email])).stdout, 'code');
      const body = { email, password: PASSWORD, displayName: email.split('@')[0], inviteCode: code };
      const registered = await h.http.post(`${API}/auth/register`).send(body);
      const session = await login(email, PASSWORD);
      return { id: registered.body.user.id as string, auth: `Bearer ${session.body.accessToken}` };
    }

    it('reembed: a workflow brings files of another model to the configured one, with progress and an audit row', async () => {
      const carol = await invitedUser('carol@example.com');
      const files = [await upload(carol.auth, 'a.md'), await upload(carol.auth, 'b.md')];
      // As if they had been embedded before EMBEDDING_MODEL changed.
      await h.db.query(`UPDATE files SET embedding_model = 'fake-embed-a' WHERE id IN (?, ?)`, files);
      await h.db.query('DELETE v FROM file_chunk_vectors v WHERE v.file_id = ?', [files[0]]);
      const before = embeddings.requests.length;

      const run = await cli(['reembed']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^started reembed-files:ingest-cli-/m);
      expect(run.stdout).toContain('done: 2 file(s) re-embedded with fake-embed-b, 0 failed');
      recordIfAsked(run.stdout, 'reembed-files.completed.json');
      expect(embeddings.requests.length).toBeGreaterThan(before);
      const rows: { id: string; embedding_model: string; vectors: number; chunks: number }[] = await h.db.query(
        `SELECT f.id, f.embedding_model, f.chunk_count AS chunks,
                (SELECT COUNT(*) FROM file_chunk_vectors v WHERE v.file_id = f.id) AS vectors
           FROM files f WHERE f.id IN (?, ?)`,
        files,
      );
      for (const row of rows) {
        expect(row.embedding_model).toBe('fake-embed-b');
        expect(Number(row.vectors)).toBe(Number(row.chunks));
      }
      const audit: { metadata: unknown }[] = await h.db.query(
        "SELECT metadata FROM audit_log WHERE action = 'files.reembedded' AND target_type = 'workflow_run'",
      );
      expect(audit.map((row) => (typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata))).toEqual([
        {
          workflowId: expect.stringMatching(/^reembed-files:ingest-cli-/),
          model: 'fake-embed-b',
          total: 2,
          done: 2,
          failed: 0,
          by: 'cli',
        },
      ]);

      // Nothing left to do: a second run finds no file on another model.
      const again = await cli(['reembed']);
      expect(again.stdout).toContain('done: 0 file(s) re-embedded');
      expect((await cli(['reembed', '--status'])).stdout).toMatch(/^completed: 0\/0 files/m);
    });

    it('reencrypt-files: a workflow seals objects stored in clear, with progress and an audit row', async () => {
      const fay = await invitedUser('fay@example.com');
      const id = await upload(fay.auth, 'clear.md');
      const key = objectKeyFor(fay.id, id);
      // As if uploaded before encryption was turned on: the same bytes, clear, straight into the bucket.
      const raw = createObjectStore({ s3: h.config.files.s3, localDir: h.config.files.localDir });
      const text = (await buffer(await h.store.get(key))).toString();
      await raw.put(key, Readable.from([Buffer.from(text)]), { maxBytes: text.length });
      expect((await buffer(await raw.get(key))).toString()).toBe(text);

      const run = await cli(['reencrypt-files']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^started reencrypt-files:ingest-cli-/m);
      expect(run.stdout).toMatch(/done: 1 rewritten, 0 re-wrapped, \d+ already current, 0 failed/);
      recordIfAsked(run.stdout, 'reencrypt-files.completed.json');
      expect((await buffer(await raw.get(key))).includes('passport')).toBe(false);
      expect((await buffer(await h.store.get(key))).toString()).toBe(text);
      expect((await cli(['reencrypt-files', '--status'])).stdout).toMatch(
        /^completed: \d+ file\(s\) seen, 1 rewritten/m,
      );
      const audit: { n: number }[] = await h.db.query(
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'files.reencrypted' AND target_type = 'workflow_run'",
      );
      expect(Number(audit[0]?.n)).toBe(1);
    });

    it('purge --older-than: removes what is older than the cutoff, bytes included, and audits each removal', async () => {
      const dave = await invitedUser('dave@example.com');
      const oldFile = await upload(dave.auth, 'old.md');
      const newFile = await upload(dave.auth, 'new.md');
      const oldConversation = (await h.http.post(`${API}/conversations`).set('Authorization', dave.auth).send({})).body
        .id as string;
      const newConversation = (await h.http.post(`${API}/conversations`).set('Authorization', dave.auth).send({})).body
        .id as string;
      const longAgo = new Date(Date.now() - 40 * DAY_MS);
      await h.db.query('UPDATE files SET created_at = ? WHERE id = ?', [longAgo, oldFile]);
      await h.db.query('UPDATE conversations SET updated_at = ? WHERE id = ?', [longAgo, oldConversation]);
      const [{ storage_key: oldKey }] = await h.db.query('SELECT storage_key FROM files WHERE id = ?', [oldFile]);
      expect(await h.store.stat(oldKey as string)).not.toBeNull();

      expect((await cli(['purge', '--older-than', '30'])).code).toBe(1); // no --yes, no terminal
      const run = await cli(['purge', '--older-than', '30', '--yes']);
      expect(run.code).toBe(0);
      // Other tests' rows in this database may be old too; at least these two went.
      expect(run.stdout).toMatch(/done: completed: \d+ file\(s\), \d+ conversation\(s\) removed/);
      expect((await h.http.get(`${API}/files/${oldFile}`).set('Authorization', dave.auth)).status).toBe(404);
      expect((await h.http.get(`${API}/files/${newFile}`).set('Authorization', dave.auth)).status).toBe(200);
      expect((await h.http.get(`${API}/conversations/${oldConversation}`).set('Authorization', dave.auth)).status).toBe(
        404,
      );
      expect((await h.http.get(`${API}/conversations/${newConversation}`).set('Authorization', dave.auth)).status).toBe(
        200,
      );
      expect(await h.store.stat(oldKey as string)).toBeNull();
      expect(await h.db.query('SELECT id FROM file_chunks WHERE file_id = ?', [oldFile])).toEqual([]);

      const purgeId = run.stdout.match(/started purge:([0-9a-f-]{36})/)![1]!;
      recordIfAsked(run.stdout, 'purge-data.older-than.completed.json');
      expect(await auditRows(h, 'file.purged', oldFile)).toEqual([
        { actorId: null, metadata: { purgeId, by: 'cli', ownerId: dave.id, size: expect.any(Number) } },
      ]);
      expect(await auditRows(h, 'conversation.purged', oldConversation)).toHaveLength(1);
      expect((await auditRows(h, 'purge.requested', purgeId)).map((row) => row.metadata)).toEqual([
        { target: { kind: 'older_than', cutoff: expect.any(String), days: 30 }, by: 'cli' },
      ]);
      expect((await auditRows(h, 'purge.completed', purgeId)).map((row) => row.metadata)).toEqual([
        expect.objectContaining({ files: expect.any(Number), conversations: expect.any(Number), by: 'cli' }),
      ]);
      expect((await cli(['purge', '--status', purgeId])).stdout).toMatch(/^completed: /);
    });

    it('purge --user: refuses an enabled account, then removes everything of the disabled one and the account', async () => {
      const erin = await invitedUser('erin@example.com');
      const file = await upload(erin.auth, 'mine.md');
      await h.http.post(`${API}/conversations`).set('Authorization', erin.auth).send({});
      const [{ storage_key: key }] = await h.db.query('SELECT storage_key FROM files WHERE id = ?', [file]);

      const enabled = await cli(['purge', '--user', 'erin@example.com', '--yes']);
      expect(enabled).toMatchObject({ code: 1, stderr: expect.stringContaining('disable it first') });

      await cli(['disable-user', 'erin@example.com', '--yes']);
      const run = await cli(['purge', '--user', 'erin@example.com', '--yes']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('done: completed: 1 file(s), 1 conversation(s) removed, account deleted');
      expect(await h.db.query('SELECT id FROM users WHERE id = ?', [erin.id])).toEqual([]);
      expect(await h.db.query('SELECT id FROM conversations WHERE owner_id = ?', [erin.id])).toEqual([]);
      expect(await h.store.stat(key as string)).toBeNull();
      expect((await auditRows(h, 'user.purged', erin.id)).map((row) => row.actorId)).toEqual([null]);
    });
  });

  describe('migrations', () => {
    it('shows every migration as applied, reverts the last one only with --yes, and migrate brings it back', async () => {
      const last = new MIGRATIONS[MIGRATIONS.length - 1]!().name;
      // Tables, columns and indexes: what the last migration added (a table, a column or only an index) is gone after
      // the revert.
      const tables = async () =>
        (
          await h.db.query<{ name: string }[]>(
            `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()
             UNION SELECT CONCAT(table_name, '.', column_name) FROM information_schema.columns
              WHERE table_schema = DATABASE()
             UNION SELECT CONCAT(table_name, '.', index_name, ' (index)') FROM information_schema.statistics
              WHERE table_schema = DATABASE()`,
          )
        )
          .map((row) => row.name)
          .sort();
      const before = await tables();
      const shown = await cli(['migrations']);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain(`[x] ${last}`);
      expect(shown.stdout).toMatch(/: \d+ applied, 0 pending/);

      expect((await cli(['migrations', 'revert'])).code).toBe(1);
      expect(await tables()).toEqual(before);
      const reverted = await cli(['migrations', 'revert', '--yes']);
      expect(reverted.stdout).toContain(`reverted ${last}`);
      expect((await cli(['migrations', 'show'])).stdout).toContain(`[ ] ${last}`);
      const afterRevert = await tables();
      expect(afterRevert.length).toBeLessThan(before.length);
      expect(before).toEqual(expect.arrayContaining(afterRevert));

      expect(await migrateDatabase(h.env.DATABASE_URL!)).toEqual([last]);
      expect(await tables()).toEqual(before);
      expect((await cli(['migrations'])).stdout).toMatch(/: \d+ applied, 0 pending/);
    });
  });
});
