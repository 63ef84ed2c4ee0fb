import { Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { ATTACHMENT_STORAGE } from './attachments.tokens.js';
import { type LocalBlobStorage } from './local.storage.js';

/**
 * The embedded default's stand-in for S3: the signed upload form and the signed download links.
 * No bearer token: the signature is the permission, as with presigned S3 requests.
 */
@Controller('attachments')
export class LocalFilesController {
  constructor(@Inject(ATTACHMENT_STORAGE) private readonly storage: LocalBlobStorage) {}

  @Post('uploads')
  upload(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.storage.receive(req, res);
  }

  @Get('files/:key')
  download(@Req() req: Request, @Res() res: Response, @Param('key') key: string): Promise<void> {
    return this.storage.send(req, res, key);
  }
}
