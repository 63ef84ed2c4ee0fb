/** The domain's AttachmentStore (AttachmentService). */
export const ATTACHMENTS = Symbol('ATTACHMENTS');
/** The BlobStorage in use (S3 or the local folder). */
export const ATTACHMENT_STORAGE = Symbol('ATTACHMENT_STORAGE');
