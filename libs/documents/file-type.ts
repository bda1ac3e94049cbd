/** The kinds of document that can be uploaded and turned into text. */
export type DocumentKind = 'txt' | 'md' | 'html' | 'pdf' | 'docx' | 'csv' | 'json';

export type DocumentTypeError = 'unsupported_type' | 'type_mismatch' | 'empty';

export type DocumentKindResult = { kind: DocumentKind } | { error: DocumentTypeError; detail: string };

/** The media type stored and served for each kind (never the one the client claimed). */
export const DOCUMENT_MIME_TYPES: Record<DocumentKind, string> = {
  txt: 'text/plain',
  md: 'text/markdown',
  html: 'text/html',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  csv: 'text/csv',
  json: 'application/json',
};

const KIND_BY_EXTENSION: Record<string, DocumentKind> = {
  txt: 'txt',
  text: 'txt',
  md: 'md',
  markdown: 'md',
  html: 'html',
  htm: 'html',
  pdf: 'pdf',
  docx: 'docx',
  csv: 'csv',
  json: 'json',
};

/** Signatures of binary formats that must never be accepted as text, whatever the file is called. */
const BINARY_SIGNATURES: { name: string; bytes: number[] }[] = [
  { name: 'a PDF', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] },
  { name: 'a ZIP archive', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'a ZIP archive', bytes: [0x50, 0x4b, 0x05, 0x06] },
  { name: 'a ZIP archive', bytes: [0x50, 0x4b, 0x07, 0x08] },
  { name: 'an executable', bytes: [0x7f, 0x45, 0x4c, 0x46] },
  { name: 'an executable', bytes: [0xcf, 0xfa, 0xed, 0xfe] },
  { name: 'an image', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { name: 'an image', bytes: [0xff, 0xd8, 0xff] },
  { name: 'an image', bytes: [0x47, 0x49, 0x46, 0x38, 0x39, 0x61] },
  { name: 'an image', bytes: [0x47, 0x49, 0x46, 0x38, 0x37, 0x61] },
  { name: 'a compressed archive', bytes: [0x1f, 0x8b] },
  { name: 'a compressed archive', bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { name: 'a compressed archive', bytes: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07] },
  { name: 'a compressed archive', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'an Office document', bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1] },
  { name: 'a WebAssembly module', bytes: [0x00, 0x61, 0x73, 0x6d] },
];

const MARKUP = /<(?:!doctype\s|!--|\/?[a-z][a-z0-9-]*(?:\s|\/?>))/i;

/**
 * Decides what an upload is from its name AND its first bytes (at least 4 KiB, or the whole file): the extension must
 * be on the allow-list and the content must look like that kind. Text kinds must be UTF-8 without NUL bytes; a
 * multi-byte character cut off at the end of `head` is tolerated.
 */
export function detectDocumentKind(fileName: string, head: Uint8Array): DocumentKindResult {
  const dot = fileName.lastIndexOf('.');
  const extension = dot > 0 ? fileName.slice(dot + 1).toLowerCase() : '';
  const kind = Object.hasOwn(KIND_BY_EXTENSION, extension) ? KIND_BY_EXTENSION[extension] : undefined;
  if (!kind) {
    return {
      error: 'unsupported_type',
      detail: extension
        ? `Files of type .${extension} are not supported.`
        : 'The file name has no extension, so its type is unknown.',
    };
  }
  if (head.length === 0) return { error: 'empty', detail: 'The file is empty.' };

  switch (kind) {
    case 'pdf':
      return startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])
        ? { kind }
        : mismatch('The file is named .pdf but is not a PDF document.');
    case 'docx':
      return startsWith(head, [0x50, 0x4b, 0x03, 0x04])
        ? { kind }
        : mismatch('The file is named .docx but is not a Word document.');
    default:
      return detectTextKind(kind, extension, head);
  }
}

function detectTextKind(kind: DocumentKind, extension: string, head: Uint8Array): DocumentKindResult {
  const binary = BINARY_SIGNATURES.find((signature) => startsWith(head, signature.bytes));
  if (binary) return mismatch(`The file is named .${extension} but is ${binary.name}.`);
  if (head.includes(0)) return mismatch(`The file is named .${extension} but contains binary data, not text.`);
  const text = decodeUtf8Head(head);
  if (text === undefined) return mismatch(`The file is named .${extension} but is not UTF-8 text.`);
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (kind === 'html' && !MARKUP.test(body)) {
    return mismatch(`The file is named .${extension} but does not contain HTML markup.`);
  }
  if (kind === 'json' && !(body.startsWith('{') || body.startsWith('['))) {
    return mismatch('The file is named .json but does not contain a JSON object or array.');
  }
  return { kind };
}

/** Decodes strictly, after dropping a multi-byte sequence that the cut at the end of the head left incomplete. */
function decodeUtf8Head(head: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(head.subarray(0, completeLength(head)));
  } catch {
    return undefined;
  }
}

function completeLength(bytes: Uint8Array): number {
  // Look back at most 3 bytes for the lead byte of the last sequence.
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((byte, index) => bytes[index] === byte);
}

function mismatch(detail: string): DocumentKindResult {
  return { error: 'type_mismatch', detail };
}

const MAX_FILE_NAME_BYTES = 255;
/** Characters of the last path segment looked at; more cannot survive the 255-byte cut anyway (the extension is kept). */
const MAX_NAME_CHARS = 1024;
/** Half of a surrogate pair on its own: not encodable as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const MAX_EXTENSION_BYTES = 16;
/** C0 and C1 controls, DEL, and the bidirectional marks and overrides that make `exe.txt` display as `txt.exe`. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes an uploaded file name safe to store and show: keeps only the last path segment (either slash style, drive
 * letters removed), drops control, NUL, bidi-override characters and lone surrogates, and trims to 255 UTF-8 bytes while keeping the
 * extension. Returns '' when nothing usable is left; the caller rejects such uploads.
 */
export function safeFileName(name: string): string {
  // Only the last path segment is kept, so the rest never needs cleaning: cut it off first (a client may send a
  // 16 KiB name; every step below is linear, but there is no reason to run them over junk).
  const lastSegment = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1).slice(-MAX_NAME_CHARS);
  const cleaned = lastSegment.replace(LONE_SURROGATE, '').normalize('NFC').replace(UNSAFE_CHARACTERS, '');
  const withoutDrive = cleaned.replace(/^[a-zA-Z]:/, '');
  // Leading and trailing spaces and trailing dots are invisible or stripped by Windows; '.' and '..' are paths.
  const trimmed = trimTrailingDotsAndSpaces(withoutDrive.trim());
  if (trimmed === '' || /^\.+$/.test(trimmed)) return '';
  return truncateUtf8(trimmed, MAX_FILE_NAME_BYTES);
}

/** Without a regex: `/[. ]+$/` backtracks quadratically on names like `a. . . . …b`. */
function trimTrailingDotsAndSpaces(name: string): string {
  let end = name.length;
  while (end > 0 && (name[end - 1] === '.' || name[end - 1] === ' ')) end--;
  return name.slice(0, end);
}

function truncateUtf8(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot) : '';
  const keepExtension = extension !== '' && Buffer.byteLength(extension) <= MAX_EXTENSION_BYTES;
  const suffix = keepExtension ? extension : '';
  const stem = keepExtension ? name.slice(0, dot) : name;
  let budget = maxBytes - Buffer.byteLength(suffix);
  let kept = '';
  for (const codePoint of stem) {
    budget -= Buffer.byteLength(codePoint);
    if (budget < 0) break;
    kept += codePoint;
  }
  kept = kept.trimEnd();
  return kept === '' ? '' : kept + suffix;
}
