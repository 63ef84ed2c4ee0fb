import { Controller, Get, Header, Param, Res, StreamableFile } from '@nestjs/common';
import { type Response } from 'express';
import { readAsset, tryClientDist } from './try-client.assets.js';

// Same-origin only: the page talks to this gateway and nothing else.
const CSP =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** GET /try: the browser chat client (development only, see app.module.ts). */
@Controller('try')
export class TryController {
  private readonly dist = tryClientDist();

  @Get()
  @Header('Content-Security-Policy', CSP)
  page(@Res({ passthrough: true }) res: Response) {
    return this.send(res, 'index.html');
  }

  @Get(':file')
  asset(@Param('file') file: string, @Res({ passthrough: true }) res: Response) {
    return this.send(res, file);
  }

  private async send(res: Response, file: string): Promise<StreamableFile> {
    const { body, contentType } = await readAsset(this.dist, file);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    return new StreamableFile(body, { type: contentType, length: body.length });
  }
}
