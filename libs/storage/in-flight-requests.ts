import type * as http from 'node:http';

type Transport = Pick<typeof http, 'request'>;

/**
 * Counts the HTTP requests an S3 client has open per object, by wrapping the client's transport. After a failed
 * multipart upload, minio may still be sending a part when `putObject` has already rejected; aborting the upload
 * before that request is over could let the late part recreate what the abort removed. `idle` waits it out.
 *
 * Requests are matched by path, so the client must use path-style addressing (`/<bucket>/<key>`).
 */
export class InFlightRequests {
  readonly #open = new Map<string, Set<Promise<void>>>();

  /** `base` (node:http or node:https) with every request counted until its `close` event. */
  wrap(base: Transport): Transport {
    const request = (...args: Parameters<typeof http.request>): http.ClientRequest => {
      const req = base.request(...args);
      this.#track(pathOf(args[0]), req);
      return req;
    };
    return { request: request as typeof http.request };
  }

  /** Resolves once no request for `key` in `bucket` is open (including ones opened while waiting). */
  async idle(bucket: string, key: string): Promise<void> {
    const path = `/${bucket}/${key}`;
    for (let open = this.#open.get(path); open !== undefined && open.size > 0; open = this.#open.get(path)) {
      await Promise.all(open);
    }
  }

  #track(path: string | undefined, req: http.ClientRequest): void {
    if (path === undefined) return;
    let open = this.#open.get(path);
    if (open === undefined) {
      open = new Set();
      this.#open.set(path, open);
    }
    const set = open;
    const closed = new Promise<void>((resolve) => req.once('close', resolve));
    set.add(closed);
    void closed.then(() => {
      set.delete(closed);
      if (set.size === 0 && this.#open.get(path) === set) this.#open.delete(path);
    });
  }
}

/** The decoded path, without the query, of a request's first argument (options object or URL). */
function pathOf(target: unknown): string | undefined {
  let raw: string | null | undefined;
  if (typeof target === 'string') raw = new URL(target).pathname;
  else if (target instanceof URL) raw = target.pathname;
  else if (typeof target === 'object' && target !== null) raw = (target as http.RequestOptions).path;
  if (raw === undefined || raw === null) return undefined;
  const query = raw.indexOf('?');
  try {
    return decodeURIComponent(query === -1 ? raw : raw.slice(0, query));
  } catch {
    return undefined;
  }
}
