import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts listening on `host:port` (port 0: any free one); resolves with `http://host:port`, an IPv6 host bracketed. */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** Stops listening and drops every open connection, hanging requests included; resolves once the server closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Runs a fake as a standalone process: prints its URL on stdout, closes it on SIGINT/SIGTERM, and exits with 1 when it
 * cannot start.
 */
export function runStandalone(name: string, start: () => Promise<{ url: string; close(): Promise<void> }>): void {
  start().then(
    (fake) => {
      console.log(fake.url);
      const stop = (): void => {
        void fake.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err: unknown) => {
      console.error(`${name} failed to start: ${String(err)}`);
      process.exit(1);
    },
  );
}
