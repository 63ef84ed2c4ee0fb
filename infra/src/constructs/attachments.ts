import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { S3BucketCorsConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-cors-configuration/index.js';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration/index.js';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls/index.js';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning/index.js';
import { SKIP_REASONS, skipCheck } from './checkov-skip.js';

/** The object tag the gateway sets (apps/chat-gateway/src/attachments/s3.storage.ts). */
export const ATTACHMENT_STATE_TAG = 'attachment-state';
/** Uploads no message claimed are deleted after this (S3 lifecycle works in whole days). */
export const PENDING_UPLOAD_DAYS = 1;
/** Overwritten or deleted files stay recoverable this long. */
export const ATTACHMENT_NONCURRENT_DAYS = 30;

export interface AttachmentsOptions {
  readonly namePrefix: string;
  readonly kmsKeyArn: string;
  /** Browser origins that upload and download (CLIENT_URL). */
  readonly clientOrigins: string[];
  readonly forceDestroy: boolean;
}

/**
 * The attachments bucket: private (public access blocked, owner-enforced, TLS only), encrypted
 * with the stack's key, versioned. Browsers POST uploads and GET downloads straight to it from
 * CLIENT_URL through presigned requests the gateway signs. Uploads are tagged pending until a
 * message claims them; the lifecycle rule deletes pending ones and old noncurrent versions.
 */
export class Attachments extends Construct {
  readonly bucketName: string;
  readonly bucketArn: string;

  constructor(
    scope: Construct,
    id: string,
    private readonly options: AttachmentsOptions,
  ) {
    super(scope, id);
    const bucket = new S3Bucket(this, 'bucket', {
      bucketPrefix: `${options.namePrefix}-attachments-`,
      forceDestroy: options.forceDestroy,
    });
    skipCheck(
      bucket,
      'CKV_AWS_18',
      'every upload and download URL is signed in answer to a gateway request that its access log records with the user id; S3 server access logs would add the fetch itself, without the user',
    );
    skipCheck(bucket, 'CKV_AWS_144', SKIP_REASONS.noReplication);
    skipCheck(bucket, 'CKV2_AWS_62', SKIP_REASONS.noEventConsumer);
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', {
      bucket: bucket.id,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket: bucket.id,
      rule: [
        {
          applyServerSideEncryptionByDefault: {
            sseAlgorithm: 'aws:kms',
            kmsMasterKeyId: options.kmsKeyArn,
          },
          // One data key per bucket, not per object: far fewer KMS calls.
          bucketKeyEnabled: true,
        },
      ],
    });
    const versioning = new S3BucketVersioningA(this, 'versioning', {
      bucket: bucket.id,
      versioningConfiguration: { status: 'Enabled' },
    });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket: bucket.id,
      rule: [
        {
          id: 'expire-pending-uploads',
          status: 'Enabled',
          filter: [{ tag: [{ key: ATTACHMENT_STATE_TAG, value: 'pending' }] }],
          expiration: [{ days: PENDING_UPLOAD_DAYS }],
        },
        {
          id: 'expire-old-versions',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          noncurrentVersionExpiration: [{ noncurrentDays: ATTACHMENT_NONCURRENT_DAYS }],
          expiration: [{ expiredObjectDeleteMarker: true }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
      dependsOn: [versioning],
    });
    new S3BucketCorsConfiguration(this, 'cors', {
      bucket: bucket.id,
      corsRule: [
        {
          allowedOrigins: options.clientOrigins,
          allowedMethods: ['POST', 'GET'],
          allowedHeaders: ['*'],
          exposeHeaders: ['ETag'],
          maxAgeSeconds: 3000,
        },
      ],
    });
    const tlsOnly = new DataAwsIamPolicyDocument(this, 'tls-only', {
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['s3:*'],
          resources: [bucket.arn, `${bucket.arn}/*`],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
      ],
    });
    new S3BucketPolicy(this, 'policy', { bucket: bucket.id, policy: tlsOnly.json });
  }

  /**
   * What the gateway's role may do, on this bucket's objects only: sign uploads (PutObject and
   * tagging on upload), check and re-tag them, sign downloads, delete what a deleted message or
   * an erased person held; the key only through S3.
   */
  grantTo(roleName: string, region: string): void {
    const access = new DataAwsIamPolicyDocument(this, 'gateway-access', {
      statement: [
        {
          sid: 'UseAttachmentObjects',
          effect: 'Allow',
          actions: ['s3:PutObject', 's3:PutObjectTagging', 's3:GetObject', 's3:DeleteObject'],
          resources: [`${this.bucketArn}/*`],
        },
        {
          sid: 'UseTheKeyThroughS3',
          effect: 'Allow',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [this.options.kmsKeyArn],
          condition: [
            {
              test: 'StringEquals',
              variable: 'kms:ViaService',
              values: [`s3.${region}.amazonaws.com`],
            },
          ],
        },
      ],
    });
    new IamRolePolicy(this, 'gateway-access-policy', {
      name: 'attachments-bucket',
      role: roleName,
      policy: access.json,
    });
  }
}
