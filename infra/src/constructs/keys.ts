import { Construct } from 'constructs';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity/index.js';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { skipCheck } from './checkov-skip.js';

const KEY_POLICY_REASON =
  "a key policy's Resource \"*\" is this key alone; the account statement is AWS's default key policy (IAM policies decide who administers it), the service statements are limited to this account's log groups and to alarm/event publishing";

export interface KeysOptions {
  readonly namePrefix: string;
  readonly region: string;
}

/**
 * The stack's customer-managed KMS key: Redis and DocumentDB at rest, the stack's secrets, its log
 * groups and its SNS topic. The key policy lets CloudWatch Logs use it for this account's log
 * groups and lets CloudWatch alarms and EventBridge publish to the encrypted topic.
 */
export class Keys extends Construct {
  readonly kmsKeyArn: string;
  readonly accountId: string;

  constructor(scope: Construct, id: string, options: KeysOptions) {
    super(scope, id);
    const prefix = options.namePrefix;
    const identity = new DataAwsCallerIdentity(this, 'identity');
    this.accountId = identity.accountId;
    const keyPolicy = new DataAwsIamPolicyDocument(this, 'data-key-policy', {
      statement: [
        {
          sid: 'AccountAdministersTheKey',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [`arn:aws:iam::${identity.accountId}:root`] }],
          actions: ['kms:*'],
          resources: ['*'],
        },
        {
          sid: 'CloudWatchLogsOfThisAccount',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: [`logs.${options.region}.amazonaws.com`] }],
          actions: [
            'kms:Encrypt*',
            'kms:Decrypt*',
            'kms:ReEncrypt*',
            'kms:GenerateDataKey*',
            'kms:Describe*',
          ],
          resources: ['*'],
          condition: [
            {
              test: 'ArnLike',
              variable: 'kms:EncryptionContext:aws:logs:arn',
              values: [`arn:aws:logs:${options.region}:${identity.accountId}:log-group:*`],
            },
          ],
        },
        {
          sid: 'AlarmsAndEventsPublishToTheTopic',
          effect: 'Allow',
          principals: [
            { type: 'Service', identifiers: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
          ],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        },
      ],
    });
    for (const check of ['CKV_AWS_109', 'CKV_AWS_111', 'CKV_AWS_356'])
      skipCheck(keyPolicy, check, KEY_POLICY_REASON);
    const key = new KmsKey(this, 'data-key', {
      description: `${prefix}: ElastiCache, DocumentDB, secrets, logs and alarm topic`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: keyPolicy.json,
    });
    new KmsAlias(this, 'data-key-alias', { name: `alias/${prefix}-data`, targetKeyId: key.keyId });
    this.kmsKeyArn = key.arn;
  }
}
