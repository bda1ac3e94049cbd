/** Why a file's text could not be extracted; stable codes that callers switch on, never on messages. */
export type DocumentErrorCode = 'corrupt' | 'encrypted' | 'too_large' | 'empty';

/** An uploaded document that cannot be turned into text. The message is written for the person who uploaded it. */
export class DocumentError extends Error {
  override readonly name = 'DocumentError';

  constructor(
    readonly code: DocumentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
