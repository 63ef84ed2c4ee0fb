import { Controller, Get } from '@nestjs/common';
import { type oas31 } from 'zod-openapi';
import { buildOpenApiDocument } from './openapi.document.js';

/** Development and test only (see app.module.ts); production clients use docs/openapi.json. */
@Controller()
export class OpenApiController {
  private readonly document = buildOpenApiDocument();

  @Get('openapi.json')
  openapi(): oas31.OpenAPIObject {
    return this.document;
  }
}
