import { request, type ClientRequest } from 'node:http';
import { randomBytes } from 'node:crypto';

/** A `multipart/form-data` upload the test feeds piece by piece, and can cut off like a client that went away. */
export interface StreamingUpload {
  /** Sends `bytes` more bytes of the file part (resolves once they are flushed to the socket). */
  send(bytes: Buffer): Promise<void>;
  /** Ends the body (the file part's closing boundary) and resolves with the answer. */
  finish(): Promise<{ status: number; body: unknown }>;
  /** Destroys the connection mid-body, as a client that crashed or lost its network. */
  abort(): void;
}

/**
 * Starts `POST /api/v1/files` at `baseUrl` with a chunked multipart body whose file part is named `name`; nothing but
 * the part's headers is sent until `send`.
 */
export function startStreamingUpload(
  baseUrl: string,
  auth: string,
  name: string,
  contentType: string,
): StreamingUpload {
  const boundary = `----gigachat-test-${randomBytes(8).toString('hex')}`;
  const url = new URL('/api/v1/files', baseUrl);
  const req: ClientRequest = request(url, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
  });
  const answer = new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    req.once('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.once('end', () => {
        const text = Buffer.concat(parts).toString();
        resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined });
      });
    });
    req.once('error', reject);
  });
  answer.catch(() => undefined); // an aborted upload's answer is never asked for
  const write = (bytes: Buffer | string) =>
    new Promise<void>((resolve, reject) => req.write(bytes, (error) => (error ? reject(error) : resolve())));
  const head = write(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
      `Content-Type: ${contentType}\r\n\r\n`,
  );
  return {
    send: async (bytes) => {
      await head;
      await write(bytes);
    },
    finish: async () => {
      await head;
      req.end(`\r\n--${boundary}--\r\n`);
      return answer;
    },
    abort: () => req.destroy(),
  };
}
