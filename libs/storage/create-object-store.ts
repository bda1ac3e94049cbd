import { LocalDirectoryStore } from './local-directory.store';
import type { ObjectStore } from './object-store';
import { S3Store, type S3StoreOptions } from './s3.store';

export interface ObjectStoreConfig {
  /** Set when an S3 endpoint is configured; it wins over `localDir`. */
  s3?: S3StoreOptions;
  /** The embedded store's directory, used when there is no S3 endpoint. */
  localDir: string;
}

/** The configured object store: S3 when an endpoint is configured, else the local directory. */
export function createObjectStore(cfg: ObjectStoreConfig): ObjectStore {
  return cfg.s3 === undefined ? new LocalDirectoryStore(cfg.localDir) : new S3Store(cfg.s3);
}
