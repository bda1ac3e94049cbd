/** Stable codes that callers (the upload service, the API's error filter) switch on, never on messages. */
export type ObjectStoreErrorCode = 'object_too_large' | 'object_empty' | 'object_not_found' | 'object_key_invalid';

/** An upload passed its size limit while streaming; nothing was stored. */
export class ObjectTooLargeError extends Error {
  override readonly name = 'ObjectTooLargeError';
  readonly code: ObjectStoreErrorCode = 'object_too_large';

  constructor(
    /** The limit in bytes that was exceeded. */
    readonly maxBytes: number,
  ) {
    super(`The object is larger than the limit of ${maxBytes} bytes`);
  }
}

/** An upload carried no bytes at all; nothing was stored. */
export class EmptyObjectError extends Error {
  override readonly name = 'EmptyObjectError';
  readonly code: ObjectStoreErrorCode = 'object_empty';

  constructor() {
    super('The object is empty');
  }
}

/** No object is stored under the key. */
export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  readonly code: ObjectStoreErrorCode = 'object_not_found';

  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`No object is stored under key '${key}'`, options);
  }
}

/**
 * A key or prefix that is not in the store's key format (see `object-key.ts`): a programming error, never user
 * input, since keys are built from ids only. The offending value is left out of the message on purpose.
 */
export class InvalidObjectKeyError extends Error {
  override readonly name = 'InvalidObjectKeyError';
  readonly code: ObjectStoreErrorCode = 'object_key_invalid';

  constructor(reason: string) {
    super(`Invalid object key: ${reason}`);
  }
}
