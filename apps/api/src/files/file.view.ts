import type { FileEntity, FileKind } from '#libs/db/entities/file.entity';

/** A file as the API shows it. `uploading` (bytes still on their way) is shown as `processing`. */
export interface FileView {
  id: string;
  name: string;
  size: number;
  mimeType: string;
  kind: FileKind;
  status: 'processing' | 'ready' | 'failed';
  /** 0–100 while processing; 100 once ready. */
  progress: number;
  /** The ingestion step running now (`extract`, `chunk`, `embed`, `index`), null when none runs. */
  stage: string | null;
  /** Retrievable passages; 0 until the file is ready. */
  chunks: number;
  error?: { code: string; detail: string };
  createdAt: string;
  updatedAt: string;
}

export function toFileView(file: FileEntity): FileView {
  return {
    id: file.id,
    name: file.name,
    size: file.size,
    mimeType: file.mimeType,
    kind: file.kind,
    status: file.status === 'uploading' ? 'processing' : file.status,
    progress: file.progress,
    stage: file.stage,
    chunks: file.chunkCount,
    ...(file.status === 'failed'
      ? { error: { code: file.errorCode ?? 'ingest_failed', detail: file.errorDetail ?? 'The file could not be read' } }
      : {}),
    createdAt: file.createdAt.toISOString(),
    updatedAt: file.updatedAt.toISOString(),
  };
}
