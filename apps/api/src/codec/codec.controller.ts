import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/problem.responses';
import { RequireScopes } from '../security/require-scopes.decorator';
import { Roles } from '../security/roles.decorator';
import { CodecService } from './codec.service';
import { CodecPayloadsDto } from './dto/codec-payloads.dto';

/**
 * The codec server of the Temporal UI and CLI (`--codec-endpoint …/api/v1/codec`): an admin sees turns' payloads in
 * clear; anyone else gets 401/403 and the UI keeps showing ciphertext. CORS for the UI's origin is set in create-app.
 */
@ApiTags('admin')
@ApiBearerAuth()
@ApiProblems(401)
@Roles('admin')
@RequireScopes('admin')
@Controller('codec')
export class CodecController {
  constructor(private readonly codec: CodecService) {}

  @Post('encode')
  @HttpCode(200)
  @ApiOperation({ summary: 'Encrypts payloads as the API and workers do (Temporal codec server shape)' })
  @ApiOkResponse({ type: CodecPayloadsDto })
  @ApiProblems(400)
  encode(@Body() body: CodecPayloadsDto): Promise<CodecPayloadsDto> {
    return this.codec.encode(body);
  }

  @Post('decode')
  @HttpCode(200)
  @ApiOperation({ summary: 'Decrypts payloads sealed with any configured key; clear payloads pass through' })
  @ApiOkResponse({ type: CodecPayloadsDto })
  @ApiProblems(400)
  decode(@Body() body: CodecPayloadsDto): Promise<CodecPayloadsDto> {
    return this.codec.decode(body);
  }
}
