import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Logger } from '#libs/logging/logger';
import type { Principal } from '../auth/principal';
import { clientInfo } from '../common/client-info';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import { LOGGER } from '../infra/di-symbols';
import { RateLimit } from '../security/rate-limit.decorator';
import { RequireScopes } from '../security/require-scopes.decorator';
import { ListFilesQuery } from './dto/list-files.query';
import { sendFileContent } from './file-content.responder';
import type { FileView } from './file.view';
import { FilesService } from './files.service';
import { multipartFileReader } from './multipart-file';

const FILE_VIEW_FIELDS =
  '{id, name, size, mimeType, kind, status: processing|ready|failed, progress, stage, chunks, error?: {code, detail}, createdAt, updatedAt}';

@ApiTags('files')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('files')
export class FilesController {
  constructor(
    private readonly files: FilesService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Post()
  @RateLimit('files')
  @RequireScopes('files:write')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Upload a file (txt, md, html, pdf, docx, csv, json); it is then extracted, chunked and indexed',
    description:
      'multipart/form-data with one part `file`. The type is decided from the name and the first bytes, never from ' +
      'the client-sent Content-Type. Answers 202 at once; follow GET /files/{id} until `status` is ready or failed.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: { file: { type: 'string', format: 'binary' } },
    },
  })
  @ApiAcceptedResponse({ description: `The file, status processing; Location names it. ${FILE_VIEW_FIELDS}` })
  @ApiProblems(400, 413, 415, 503)
  async upload(
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<FileView> {
    const file = await this.files.upload(principal, req.requestId, multipartFileReader(req));
    res.setHeader('Location', `/api/v1/files/${file.id}`);
    return file;
  }

  @Get()
  @RequireScopes('files:read')
  @ApiOperation({ summary: 'Your files, newest first (cursor paging)' })
  @ApiOkResponse({ description: `{items, nextCursor}; each item ${FILE_VIEW_FIELDS}` })
  @ApiProblems(400)
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListFilesQuery,
  ): Promise<{ items: FileView[]; nextCursor: string | null }> {
    return this.files.list(principal, query);
  }

  @Get(':id')
  @RequireScopes('files:read')
  @ApiOperation({ summary: 'A file and how far its processing got' })
  @ApiOkResponse({ description: FILE_VIEW_FIELDS })
  @ApiProblems(400, 404)
  get(@CurrentPrincipal() principal: Principal, @Param('id', UuidParamPipe) id: string): Promise<FileView> {
    return this.files.get(principal, id);
  }

  @Get(':id/content')
  @RateLimit('files')
  @RequireScopes('files:read')
  @ApiOperation({
    summary: "Download a file's bytes as uploaded",
    description: 'Sent as an attachment with the stored media type and `X-Content-Type-Options: nosniff`.',
  })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'The bytes, Content-Disposition: attachment' })
  @ApiProblems(400, 404)
  async content(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Res() res: Response,
  ): Promise<void> {
    await sendFileContent(res, await this.files.content(principal, id), this.logger);
  }

  @Delete(':id')
  @RateLimit('files')
  @RequireScopes('files:write')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a file: stops its processing, removes its bytes, chunks and vectors' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 404, 503)
  async delete(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
  ): Promise<void> {
    await this.files.delete(principal, id, clientInfo(req));
  }
}
