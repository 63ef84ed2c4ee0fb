import { Construct } from 'constructs';
import { AssetType, TerraformAsset, type ITerraformDependable } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission/index.js';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret/index.js';
import { SecretsmanagerSecretRotation } from '@cdktf/provider-aws/lib/secretsmanager-secret-rotation/index.js';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version/index.js';
import type { ResolvedBundle } from '../bundle.js';
import { SKIP_REASONS, skipCheck } from './checkov-skip.js';
import { DOCDB_CA_URL } from './user-data.js';

export interface DocdbAppUserOptions {
  readonly namePrefix: string;
  readonly region: string;
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  readonly rotationDays: number;
  readonly recoveryWindowDays: number;
  readonly bundle: ResolvedBundle;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  readonly docdb: {
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly masterSecretArn: string;
  };
  /** The first rotation (which creates the users) waits for these: the cluster's writer. */
  readonly dependsOn: ITerraformDependable[];
}

/** The two users the secret alternates between: one keeps working while the other rotates. */
export const APP_USERNAMES = ['chat_app', 'chat_app_clone'] as const;
export const APP_USER_ROLE = 'readWrite';

/**
 * The gateway's own DocumentDB login: a secret holding an application user with `readWrite` on
 * the chat database only (never the master user's root role), and the function that rotates it
 * with alternating users. Every rotation sets a fresh password on the user that is *not* current
 * (creating it on the first rotation, which runs at once on deploy), tests it, then makes it
 * current; the previous credentials keep working until the next rotation, so a gateway that has
 * not re-read the secret yet never fails, and one that fails re-reads it (see the gateway's
 * secrets/ folder). Only this function ever reads the master secret.
 */
export class DocdbAppUser extends Construct {
  readonly secretArn: string;
  readonly rotation: SecretsmanagerSecretRotation;
  readonly functionName: string;

  constructor(scope: Construct, id: string, options: DocdbAppUserOptions) {
    super(scope, id);
    const prefix = options.namePrefix;
    this.functionName = `${prefix}-docdb-rotation`;

    const secret = new SecretsmanagerSecret(this, 'secret', {
      name: `${prefix}/docdb-app`,
      description: `DocumentDB application user of the chat gateway (${APP_USER_ROLE} on ${options.docdb.database}); rotated by ${this.functionName}`,
      kmsKeyId: options.kmsKeyArn,
      recoveryWindowInDays: options.recoveryWindowDays,
    });
    // No password here: the first rotation, at deploy, creates the user and sets it. Later
    // versions belong to the rotation function.
    const initial = new SecretsmanagerSecretVersion(this, 'initial', {
      secretId: secret.id,
      secretString: JSON.stringify({
        engine: 'mongo',
        dbname: options.docdb.database,
        username: APP_USERNAMES[0],
        password: '',
      }),
      lifecycle: { ignoreChanges: ['secret_string'] },
    });
    this.secretArn = secret.arn;

    const logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${this.functionName}`,
      retentionInDays: options.logRetentionDays,
      kmsKeyId: options.kmsKeyArn,
    });
    skipCheck(logGroup, 'CKV_AWS_338', SKIP_REASONS.logRetention);
    const assumeRole = new DataAwsIamPolicyDocument(this, 'assume-role', {
      statement: [
        {
          effect: 'Allow',
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }],
        },
      ],
    });
    const role = new IamRole(this, 'role', {
      name: this.functionName,
      assumeRolePolicy: assumeRole.json,
      description: 'Rotates the chat gateway DocumentDB application user',
    });
    new IamRolePolicyAttachment(this, 'vpc-access', {
      role: role.name,
      policyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
    });
    const access = new DataAwsIamPolicyDocument(this, 'access', {
      statement: [
        {
          sid: 'RotateTheAppSecret',
          effect: 'Allow',
          actions: [
            'secretsmanager:DescribeSecret',
            'secretsmanager:GetSecretValue',
            'secretsmanager:PutSecretValue',
            'secretsmanager:UpdateSecretVersionStage',
          ],
          resources: [secret.arn],
        },
        {
          sid: 'ReadTheMasterSecret',
          effect: 'Allow',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [options.docdb.masterSecretArn],
        },
        {
          sid: 'GeneratePasswords',
          effect: 'Allow',
          actions: ['secretsmanager:GetRandomPassword'],
          // GetRandomPassword acts on no resource; IAM only accepts "*" for it.
          resources: ['*'],
        },
        {
          sid: 'UseTheStackKeyThroughSecretsManager',
          effect: 'Allow',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [options.kmsKeyArn],
          condition: [
            {
              test: 'StringEquals',
              variable: 'kms:ViaService',
              values: [`secretsmanager.${options.region}.amazonaws.com`],
            },
          ],
        },
        {
          sid: 'WriteOwnLogs',
          effect: 'Allow',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [`${logGroup.arn}:*`],
        },
      ],
    });
    new IamRolePolicy(this, 'access-policy', {
      name: 'rotate-docdb-app-user',
      role: role.id,
      policy: access.json,
    });

    const code = new TerraformAsset(this, 'code', {
      path: options.bundle.dir,
      type: AssetType.ARCHIVE,
      assetHash: options.bundle.hash,
    });
    const fn = new LambdaFunction(this, 'function', {
      functionName: this.functionName,
      description:
        'Secrets Manager rotation of the chat DocumentDB application user (alternating users)',
      role: role.arn,
      runtime: 'nodejs22.x',
      architectures: ['arm64'],
      handler: 'dist/handler.handler',
      filename: code.path,
      sourceCodeHash: options.bundle.hash,
      timeout: 60,
      memorySize: 256,
      // Its environment holds no secret (host, ARNs), so Lambda's own key encrypts it.
      vpcConfig: { subnetIds: options.subnetIds, securityGroupIds: [options.securityGroupId] },
      loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name },
      environment: {
        variables: {
          DOCDB_HOST: options.docdb.host,
          DOCDB_PORT: String(options.docdb.port),
          DOCDB_DATABASE: options.docdb.database,
          DOCDB_MASTER_SECRET_ARN: options.docdb.masterSecretArn,
          DOCDB_TLS: 'true',
          DOCDB_CA_URL,
          APP_USERNAMES: APP_USERNAMES.join(','),
          APP_USER_ROLE,
        },
      },
      dependsOn: [logGroup],
    });
    for (const [check, reason] of [
      [
        'CKV_AWS_173',
        'its environment holds no secret (host, port, database, ARNs); Lambda encrypts it with its own key',
      ],
      [
        'CKV_AWS_116',
        'Secrets Manager invokes rotation synchronously and retries a failed step itself; a dead-letter queue only receives asynchronous invocations',
      ],
      [
        'CKV_AWS_115',
        'Secrets Manager runs one rotation of its one secret at a time; reserving concurrency would take from the account pool and fails on new accounts (10 unreserved minimum)',
      ],
      [
        'CKV_AWS_50',
        'a few calls per rotation (Secrets Manager, DocumentDB), logged as JSON to its own group; tracing would add an X-Ray dependency for nothing to trace',
      ],
      [
        'CKV_AWS_272',
        'the code is built and hashed by this repository and uploaded by Terraform (source_code_hash); there is no signing profile in the pipeline to check against',
      ],
    ] as const)
      skipCheck(fn, check, reason);
    const permission = new LambdaPermission(this, 'invoked-by-secrets-manager', {
      statementId: 'SecretsManagerRotation',
      action: 'lambda:InvokeFunction',
      functionName: fn.functionName,
      principal: 'secretsmanager.amazonaws.com',
      sourceArn: secret.arn,
    });
    // Rotates once right away (creating the users), then on schedule.
    this.rotation = new SecretsmanagerSecretRotation(this, 'rotation', {
      secretId: secret.id,
      rotationLambdaArn: fn.arn,
      rotateImmediately: true,
      rotationRules: { automaticallyAfterDays: options.rotationDays },
      dependsOn: [permission, initial, ...options.dependsOn],
    });
  }
}
