import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AuditWriter } from '#libs/audit/audit-writer';
import type { AppConfig } from '#libs/config/app-config';
import type { Database } from '#libs/db/database';
import type { FileEntity } from '#libs/db/entities/file.entity';
import type { NewFile } from '#libs/db/repositories/file.repository';
import { DOCUMENT_MIME_TYPES, detectDocumentKind, safeFileName } from '#libs/documents/file-type';
import type { DocumentKind } from '#libs/documents/file-type';
import { AppError, CommonError, NotFoundError, ServiceUnavailableError, ValidationError } from '#libs/errors/app-error';
import type { Logger } from '#libs/logging/logger';
import { ChunkStore } from '#libs/retrieval/chunk-store';
import { objectKeyFor } from '#libs/storage/object-store';
import type { ObjectStore } from '#libs/storage/object-store';
import { EmptyObjectError, ObjectNotFoundError, ObjectTooLargeError } from '#libs/storage/object-store.errors';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { APP_CONFIG, DATABASE, LOGGER, OBJECT_STORE } from '../infra/di-symbols';
import type { FileContent } from './file-content';
import { FileView, toFileView } from './file.view';
import { IngestRunner } from './ingest-runner';
import type { MultipartFileReader } from './multipart-file';
import { peekStream } from './peek-stream';

/** The type of an upload is decided from this many first bytes (and its name) before anything is stored. */
const SNIFF_BYTES = 4096;
const FILE_FIELD = 'file';

/** An upload whose bytes are stored and whose row says `uploading`. */
interface StoredUpload {
  file: NewFile;
  size: number;
  sha256: string;
}

@Injectable()
export class FilesService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly chunks: ChunkStore,
    private readonly ingest: IngestRunner,
    private readonly audit: AuditWriter,
  ) {}

  /**
   * `POST /files`: streams the `file` part into the object store and hands the file to its `ingestFile` run. The run
   * is started first, then the row is written, then the bytes; a failure at any step removes what was written (and
   * tells the run), and a crash leaves it to the run, which removes everything when the upload never finishes.
   */
  async upload(principal: Principal, requestId: string, readFile: MultipartFileReader): Promise<FileView> {
    const maxBytes = this.config.files.maxBytes;
    const outcome = await readFile(
      // One byte over the limit is enough for the store to refuse the file; busboy drops the rest unread.
      { field: FILE_FIELD, fileSizeLimit: maxBytes + 1 },
      (stream, info) => this.receive(principal, requestId, stream, info.filename),
    );
    const { received } = outcome;
    if (outcome.failure !== undefined || outcome.problems.length > 0) {
      if (received) await this.discard(received.file, 'the upload request was not valid');
      // A refusal of the file itself (type, size) names the problem best; then what was wrong with the body (a
      // body cut off mid-file also fails the store's read, with a stream error that says less).
      if (outcome.failure instanceof AppError) throw outcome.failure;
      if (outcome.problems.length > 0) throw new ValidationError(outcome.problems);
      throw outcome.failure;
    }
    if (!received) throw new ValidationError([{ field: FILE_FIELD, message: 'is required' }]);

    const { file, size, sha256 } = received;
    if (!(await this.db.files.finishUpload(file.id, file.userId, { size, sha256 }))) {
      // Deleted while its bytes were arriving: the delete could not remove an object that did not exist yet.
      await this.discard(file, 'the file was deleted during its upload');
      throw new NotFoundError('The file');
    }
    try {
      await this.ingest.uploadFinished(file.id, { size, sha256 });
    } catch (error) {
      this.logger.warn({ fileId: file.id, err: messageOf(error) }, 'could not signal the ingest run');
      await this.discard(file, 'the ingest run could not be reached');
      throw new ServiceUnavailableError('File processing is unavailable right now; try again');
    }
    const saved = await this.db.files.findOwned(file.id, file.userId);
    if (!saved) throw new NotFoundError('The file');
    return toFileView(saved);
  }

  /** The `file` part: sniff its type, start the run, write the row, stream the bytes to the store. */
  private async receive(
    principal: Principal,
    requestId: string,
    stream: Readable & { truncated?: boolean },
    clientName: string | undefined,
  ): Promise<StoredUpload> {
    const maxBytes = this.config.files.maxBytes;
    const peeked = await peekStream(stream, SNIFF_BYTES);
    let kind: DocumentKind;
    const name = safeFileName(clientName ?? '');
    try {
      if (name === '') throw new ValidationError([{ field: FILE_FIELD, message: 'must have a usable file name' }]);
      const detected = detectDocumentKind(name, peeked.head);
      if ('error' in detected) {
        if (detected.error === 'empty') throw new ValidationError([{ field: FILE_FIELD, message: 'is empty' }]);
        throw new CommonError('unsupported_media_type', detected.detail, {
          reason: detected.error,
          allowed: Object.keys(DOCUMENT_MIME_TYPES),
        });
      }
      kind = detected.kind;
    } catch (error) {
      peeked.discard();
      throw error;
    }

    const fileId = randomUUID();
    const userId = principal.userId;
    try {
      await this.ingest.start({ fileId, userId, requestId }, name);
    } catch (error) {
      peeked.discard();
      this.logger.warn({ fileId, err: messageOf(error) }, 'could not start the ingest run');
      throw new ServiceUnavailableError('File processing is unavailable right now; try again');
    }

    const file: NewFile = {
      id: fileId,
      userId,
      name,
      kind,
      mimeType: DOCUMENT_MIME_TYPES[kind],
      storageKey: objectKeyFor(userId, fileId),
    };
    try {
      await this.db.files.createUploading(file);
      const stored = await this.store.put(file.storageKey, peeked.body(), {
        maxBytes,
        contentType: file.mimeType,
      });
      if (stream.truncated) throw new ObjectTooLargeError(maxBytes);
      return { file, size: stored.size, sha256: stored.sha256 };
    } catch (error) {
      peeked.discard();
      await this.discard(file, messageOf(error));
      if (error instanceof ObjectTooLargeError) {
        throw new CommonError('payload_too_large', `The file is larger than the limit of ${maxBytes} bytes`, {
          maxBytes,
        });
      }
      if (error instanceof EmptyObjectError) throw new ValidationError([{ field: FILE_FIELD, message: 'is empty' }]);
      throw error;
    }
  }

  /** Removes what an upload wrote (object, row) and tells its run, which then has nothing left to do. */
  private async discard(file: Pick<NewFile, 'id' | 'userId' | 'storageKey'>, reason: string): Promise<void> {
    // Each step on its own, so the row goes even when the store cannot be reached; the run removes what is left.
    const steps: [string, () => Promise<unknown>][] = [
      ['object', () => this.store.delete(file.storageKey)],
      ['row', () => this.db.files.remove(file.id, file.userId)],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (error) {
        this.logger.warn({ fileId: file.id, what, err: messageOf(error) }, 'could not clean up a failed upload');
      }
    }
    await this.ingest.uploadFailed(file.id, { reason: reason.slice(0, 500) });
  }

  /** The caller's files, newest first (cursor paging). */
  async list(
    principal: Principal,
    query: { cursor?: string; limit?: number },
  ): Promise<{ items: FileView[]; nextCursor: string | null }> {
    const limit = query.limit ?? 20;
    const cursor = decodeCursor(query.cursor);
    const rows = await this.db.files.listOwned(principal.userId, {
      limit: limit + 1,
      ...(cursor ? { after: { createdAt: new Date(cursor.at), id: cursor.id } } : {}),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(toFileView),
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.createdAt.toISOString(), id: last.id }) : null,
    };
  }

  async get(principal: Principal, id: string): Promise<FileView> {
    return toFileView(await this.own(principal, id));
  }

  /** The stored bytes, typed as the row says (never as the client claimed). */
  async content(principal: Principal, id: string): Promise<FileContent> {
    const file = await this.own(principal, id);
    if (file.status === 'uploading') throw new NotFoundError('The file');
    let body: Readable;
    try {
      body = await this.store.get(file.storageKey);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) throw new NotFoundError('The file');
      throw error;
    }
    return {
      fileId: file.id,
      name: file.name,
      size: file.size,
      // Text kinds were checked to be UTF-8 at upload: say so, so no client guesses another charset.
      contentType: file.kind === 'pdf' || file.kind === 'docx' ? file.mimeType : `${file.mimeType}; charset=utf-8`,
      body,
    };
  }

  /**
   * Stops the file's run, then removes its object and its row (its chunks and vectors go with it, ON DELETE CASCADE);
   * audited. The chunks get no delete of their own before it: a terminated run's activity may still be writing them,
   * and once the row is gone none can be written.
   */
  async delete(principal: Principal, id: string, client: ClientInfo): Promise<void> {
    const file = await this.own(principal, id);
    try {
      await this.ingest.terminate(file.id, 'the file was deleted');
    } catch (error) {
      this.logger.warn({ fileId: file.id, err: messageOf(error) }, 'could not stop the ingest run');
      throw new ServiceUnavailableError('File processing is unavailable right now; try again');
    }
    await this.store.delete(file.storageKey);
    await this.db.transaction(async (tx) => {
      if (!(await tx.files.remove(file.id, file.userId))) throw new NotFoundError('The file');
      await this.audit.record(
        {
          actorId: principal.userId,
          action: 'file.deleted',
          targetType: 'file',
          targetId: file.id,
          metadata: { name: file.name, size: file.size, status: file.status },
          ...client,
        },
        tx,
      );
    });
    await this.chunks.fileRemoved(file.id, file.userId);
  }

  /** The caller's own file; anyone else's (or none) is 404, so existence does not leak. */
  private async own(principal: Principal, id: string): Promise<FileEntity> {
    const file = await this.db.files.findOwned(id, principal.userId);
    if (!file) throw new NotFoundError('The file');
    return file;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
