import busboy from 'busboy';
import type { FileInfo } from 'busboy';
import type { Request } from 'express';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { FieldProblem } from '#libs/errors/app-error';

export interface MultipartFileOptions {
  /** The form field that carries the file. */
  field: string;
  /** Busboy stops reading a file after this many bytes and marks its stream `truncated`. */
  fileSizeLimit: number;
}

/** How a multipart body went: the file handler's result or error, and what else was wrong with the body. */
export interface MultipartFileOutcome<T> {
  /** Present when the body had the file part and its handler returned. */
  received?: T;
  /** The handler's error (when the body was cut off, often the file stream's own). */
  failure?: unknown;
  /** Problems with the body itself: a missing file, a second file, fields nobody asked for. */
  problems: FieldProblem[];
}

/** Hands a multipart body's one file part to `onFile` as it streams in (`readMultipartFile`, its request bound). */
export type MultipartFileReader = <T>(
  options: MultipartFileOptions,
  onFile: (stream: Readable & { truncated?: boolean }, info: FileInfo) => Promise<T>,
) => Promise<MultipartFileOutcome<T>>;

/** Small limits for everything but the file: a body with more parts than this is not an upload form. */
const LIMITS = { files: 1, fields: 8, fieldSize: 1024, fieldNameSize: 100, parts: 10, headerPairs: 20 };

/**
 * Parses a `multipart/form-data` upload as it streams in: exactly one file, in `options.field`, handed to `onFile`
 * while the body is still arriving (never buffered whole). Resolves once the whole body has been read and the
 * handler has settled, so the caller can undo what the handler did when the rest of the body turns out wrong.
 */
export async function readMultipartFile<T>(
  req: IncomingMessage,
  options: MultipartFileOptions,
  onFile: (stream: Readable & { truncated?: boolean }, info: FileInfo) => Promise<T>,
): Promise<MultipartFileOutcome<T>> {
  const problems: FieldProblem[] = [];
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      // Browsers send file names as raw UTF-8; busboy's default would read them as Latin-1.
      defParamCharset: 'utf8',
      limits: { ...LIMITS, fileSize: options.fileSizeLimit },
    });
  } catch {
    return {
      problems: [{ field: options.field, message: 'must be sent as a multipart/form-data body with a boundary' }],
    };
  }

  let handling: Promise<{ ok: true; value: T } | { ok: false; error: unknown }> | undefined;
  let fileStream: Readable | undefined;
  let extraFiles = false;
  let tooManyParts = false;
  parser.on('file', (name, stream, info) => {
    if (name !== options.field || handling) {
      if (name === options.field) extraFiles = true;
      else problems.push({ field: name, message: 'is not a known field' });
      stream.resume();
      return;
    }
    fileStream = stream;
    handling = onFile(stream, info).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => {
        stream.resume(); // the parser waits for this part to be read before it moves on
        return { ok: false as const, error };
      },
    );
  });
  parser.on('field', (name) => problems.push({ field: name, message: 'is not a known field' }));
  parser.on('filesLimit', () => (extraFiles = true));
  parser.on('partsLimit', () => (tooManyParts = true));
  parser.on('fieldsLimit', () => (tooManyParts = true));

  const parsed = new Promise<void>((resolve, reject) => {
    parser.once('close', resolve);
    parser.once('error', reject);
    // The connection closed before the whole body arrived: the client went away. The file part will never end, so it
    // is failed here and now — its handler (a store put) fails, and the caller removes what was written at once
    // instead of leaving it to the ingest run's long wait for the upload.
    req.once('close', () => {
      if (req.complete) return;
      const aborted = new Error('The client aborted the upload');
      if (fileStream && !fileStream.destroyed) fileStream.destroy(aborted);
      reject(aborted);
    });
  });
  req.pipe(parser);
  let parseError: unknown;
  try {
    await parsed;
  } catch (error) {
    parseError = error;
    req.unpipe(parser);
    req.resume();
  }
  const handled = handling ? await handling : undefined;

  if (extraFiles) problems.push({ field: options.field, message: 'must be a single file; send one file per request' });
  if (tooManyParts) problems.push({ field: '(body)', message: 'has too many parts' });
  if (!handling && parseError === undefined) problems.push({ field: options.field, message: 'is required' });
  if (parseError !== undefined) {
    problems.push({ field: options.field, message: 'is not a complete multipart/form-data body' });
  }
  return {
    ...(handled?.ok ? { received: handled.value } : {}),
    ...(handled && !handled.ok ? { failure: handled.error } : {}),
    problems: dedupe(problems),
  };
}

/**
 * The file-part reader of one request: a body that is not `multipart/form-data` is not read at all, only reported as a
 * problem with the file field.
 */
export function multipartFileReader(req: Request): MultipartFileReader {
  return (options, onFile) =>
    req.is('multipart/form-data')
      ? readMultipartFile(req, options, onFile)
      : Promise.resolve({ problems: [{ field: options.field, message: 'is required, sent as multipart/form-data' }] });
}

function dedupe(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.field}\u0000${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
