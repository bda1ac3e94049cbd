import { EncryptedObjectStore, type FileMasterKey } from './encrypted-object-store';
import { LocalDirectoryStore } from './local-directory.store';
import type { ObjectStore } from './object-store';
import { S3Store, type S3StoreOptions } from './s3.store';

export interface ObjectStoreConfig {
  /** Set when an S3 endpoint is configured; it wins over `localDir`. */
  s3?: S3StoreOptions;
  /** The embedded store's directory, used when there is no S3 endpoint. */
  localDir: string;
  /**
   * Master keys (the first wraps new files' data keys): every object is encrypted before it reaches the store and
   * decrypted as it streams back. Empty or absent = bytes stored as they are (tests of the raw drivers only).
   */
  encryptionKeys?: readonly FileMasterKey[];
}

/** The configured object store: S3 when an endpoint is configured, else the local directory; encrypted at rest. */
export function createObjectStore(cfg: ObjectStoreConfig): ObjectStore {
  const raw = cfg.s3 === undefined ? new LocalDirectoryStore(cfg.localDir) : new S3Store(cfg.s3);
  return cfg.encryptionKeys && cfg.encryptionKeys.length > 0 ? new EncryptedObjectStore(raw, cfg.encryptionKeys) : raw;
}
