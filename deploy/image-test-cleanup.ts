import { Client } from 'minio';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';

/**
 * Removes what one `deploy/image-test.sh` run made: its database, its Redis keys and its S3 bucket, all named for the
 * run (`gcimage<digits>`); anything named otherwise is refused.
 *
 *   node dist/deploy/image-test-cleanup.js <mysql url of the database> <redis url> <key prefix> <s3 endpoint> <bucket>
 */
async function main(): Promise<void> {
  const [databaseUrl = '', redisUrl = '', prefix = '', s3Endpoint = '', bucket = ''] = process.argv.slice(2);
  const url = new URL(databaseUrl);
  const database = url.pathname.slice(1);
  if (!/^gcimage\d+$/.test(database) || !/^gcimage\d+:$/.test(prefix) || !/^gcimage\d+$/.test(bucket)) {
    throw new Error('refusing to remove anything not named by an image test run');
  }
  url.pathname = '/';
  const mysql = await createConnection(url.toString());
  await mysql.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await mysql.end();

  const redis = new Redis(redisUrl);
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }

  const s3 = new URL(s3Endpoint);
  const client = new Client({
    endPoint: s3.hostname,
    port: Number(s3.port || 80),
    useSSL: s3.protocol === 'https:',
    accessKey: 'gigachat',
    secretKey: 'gigachat-secret-key',
  });
  if (await client.bucketExists(bucket)) {
    const names: string[] = [];
    for await (const item of client.listObjectsV2(bucket, '', true) as AsyncIterable<{ name?: string }>) {
      if (typeof item.name === 'string') names.push(item.name);
    }
    if (names.length > 0) await client.removeObjects(bucket, names);
    await client.removeBucket(bucket);
  }
}

main().catch((error: unknown) => {
  console.error(`[image-test] cleanup: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
