import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '#libs/logging/logger';
import { attachmentDisposition } from './content-disposition';
import type { FileContent } from './file-content';

/**
 * Sends a file's bytes as an attachment that no browser renders or sniffs. Once the bytes flow the status is sent, so
 * a failure mid-stream (the client went away, the store failed) can only cut the response off.
 */
export async function sendFileContent(res: Response, content: FileContent, logger: Logger): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', content.contentType);
  res.setHeader('Content-Length', String(content.size));
  res.setHeader('Content-Disposition', attachmentDisposition(content.name));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
  res.setHeader('Cache-Control', 'private, no-store');
  try {
    await pipeline(content.body, res);
  } catch (error) {
    logger.warn(
      { fileId: content.fileId, err: error instanceof Error ? error.message : String(error) },
      'file download interrupted',
    );
    content.body.destroy();
    res.destroy();
  }
}
