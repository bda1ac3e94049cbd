import { inflateRawSync } from 'node:zlib';
import { DocumentError } from './document.error';

export interface ZipLimits {
  /** Largest total uncompressed size of all entries. */
  maxUncompressedBytes: number;
  /** Largest ratio of uncompressed to compressed size, enforced once the archive unpacks to more than `ratioFloorBytes`. */
  maxCompressionRatio: number;
  ratioFloorBytes: number;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const ZIP64_MARKER = 0xffffffff;
const DEFLATE = 8;
/** Entries that a DOCX reader parses; media is never inflated, so only these are checked against their headers. */
const PARSED_ENTRY = /\.(?:xml|rels)$/i;

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/**
 * Rejects a ZIP archive that would unpack to too much, judged from its central directory before anything is
 * inflated; then inflates each XML part with an output cap equal to its declared size, so an archive that lies about
 * its sizes is rejected too. Throws `DocumentError` ('too_large' or 'corrupt').
 */
export function assertZipWithinLimits(data: Uint8Array, limits: ZipLimits): void {
  const entries = readCentralDirectory(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  let uncompressed = 0;
  let compressed = 0;
  for (const entry of entries) {
    uncompressed += entry.uncompressedSize;
    compressed += entry.compressedSize;
  }
  if (uncompressed > limits.maxUncompressedBytes) {
    throw tooLarge(`The document unpacks to more than ${Math.floor(limits.maxUncompressedBytes / 1e6)} MB.`);
  }
  if (uncompressed > limits.ratioFloorBytes && uncompressed > compressed * limits.maxCompressionRatio) {
    throw tooLarge('The document is compressed suspiciously well and was not opened.');
  }
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (const entry of entries) {
    if (entry.method === DEFLATE && PARSED_ENTRY.test(entry.name)) verifyDeclaredSize(buffer, entry);
  }
}

function readCentralDirectory(buffer: Buffer): ZipEntry[] {
  const end = findEndOfCentralDirectory(buffer);
  const count = buffer.readUInt16LE(end + 10);
  const size = buffer.readUInt32LE(end + 12);
  const offset = buffer.readUInt32LE(end + 16);
  if (count === 0xffff || size === ZIP64_MARKER || offset === ZIP64_MARKER) {
    // ZIP64 is only needed past 65,535 entries or 4 GB, far beyond any document we accept.
    throw tooLarge('The document is too large to open.');
  }
  if (offset + size > end) throw corrupt();

  const entries: ZipEntry[] = [];
  let at = offset;
  for (let index = 0; index < count; index++) {
    if (at + 46 > end || buffer.readUInt32LE(at) !== CENTRAL_DIRECTORY_ENTRY) throw corrupt();
    const nameLength = buffer.readUInt16LE(at + 28);
    const extraLength = buffer.readUInt16LE(at + 30);
    const commentLength = buffer.readUInt16LE(at + 32);
    const entry: ZipEntry = {
      method: buffer.readUInt16LE(at + 10),
      compressedSize: buffer.readUInt32LE(at + 20),
      uncompressedSize: buffer.readUInt32LE(at + 24),
      localHeaderOffset: buffer.readUInt32LE(at + 42),
      name: buffer.toString('utf8', at + 46, Math.min(end, at + 46 + nameLength)),
    };
    if (entry.compressedSize === ZIP64_MARKER || entry.uncompressedSize === ZIP64_MARKER) {
      throw tooLarge('The document is too large to open.');
    }
    entries.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function findEndOfCentralDirectory(buffer: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65,535 bytes, at the very end of the file.
  const lowest = Math.max(0, buffer.length - 22 - 0xffff);
  for (let at = buffer.length - 22; at >= lowest; at--) {
    if (buffer.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) return at;
  }
  throw corrupt();
}

function verifyDeclaredSize(buffer: Buffer, entry: ZipEntry): void {
  const header = entry.localHeaderOffset;
  if (header + 30 > buffer.length || buffer.readUInt32LE(header) !== LOCAL_FILE_HEADER) throw corrupt();
  const start = header + 30 + buffer.readUInt16LE(header + 26) + buffer.readUInt16LE(header + 28);
  const compressedData = buffer.subarray(start, start + entry.compressedSize);
  try {
    inflateRawSync(compressedData, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge('The document unpacks to more than it declares and was not opened.');
    }
    throw corrupt(error);
  }
}

function tooLarge(message: string): DocumentError {
  return new DocumentError('too_large', message);
}

function corrupt(cause?: unknown): DocumentError {
  return new DocumentError('corrupt', 'The document could not be read; the file may be damaged.', { cause });
}
