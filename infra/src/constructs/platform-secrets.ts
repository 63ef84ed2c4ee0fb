import { Construct } from 'constructs';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret/index.js';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version/index.js';
import { Id } from '@cdktf/provider-random/lib/id/index.js';
import { Password } from '@cdktf/provider-random/lib/password/index.js';
import { skipCheck } from './checkov-skip.js';

export interface PlatformSecretsOptions {
  readonly namePrefix: string;
  readonly kmsKeyArn: string;
  /** Days Secrets Manager keeps a deleted secret (0 deletes at once; dev only). */
  readonly recoveryWindowDays: number;
  /** The operator's own service-token secret; generated here when absent. */
  readonly serviceTokenSecretArn?: string | undefined;
  /** Webhooks on: the operator's signing secret, or one generated here when absent. */
  readonly webhooks?: { readonly secretArn?: string | undefined } | undefined;
}

/**
 * The platform half's secrets (the server API and the webhooks): the operator's Secrets Manager
 * ARNs, or random ones generated into secrets encrypted with the stack's key. JobSphere's backend
 * reads the generated ones from there (they are outputs); the instances read them at boot, like
 * JWT_SECRET. A generated value lives in the encrypted Terraform state too; after a
 * `put-secret-value` of one's own (which Terraform then leaves alone), only the secret holds it.
 */
export class PlatformSecrets extends Construct {
  readonly serviceTokenSecretArn: string;
  readonly webhookSecretArn: string | undefined;
  /** The gateway's variable -> the ARN of the secret that holds its value. */
  readonly secretEnv: Record<string, string>;
  /** Secrets this stack made (the rest are the operator's). */
  readonly generated: string[] = [];

  constructor(scope: Construct, id: string, options: PlatformSecretsOptions) {
    super(scope, id);
    const secret = (name: string, description: string, value: string) => {
      const created = new SecretsmanagerSecret(this, name, {
        name: `${options.namePrefix}/${name}`,
        description,
        kmsKeyId: options.kmsKeyArn,
        recoveryWindowInDays: options.recoveryWindowDays,
      });
      skipCheck(
        created,
        'CKV2_AWS_57',
        "rotated by the operator together with JobSphere's backend (put-secret-value, then an instance refresh): both sides must switch at once, which a rotation function of this stack cannot coordinate",
      );
      new SecretsmanagerSecretVersion(this, `${name}-value`, {
        secretId: created.id,
        secretString: value,
        // Rotated by the operator (put-secret-value, then an instance refresh), never reverted.
        lifecycle: { ignoreChanges: ['secret_string'] },
      });
      this.generated.push(created.arn);
      return created.arn;
    };

    this.serviceTokenSecretArn =
      options.serviceTokenSecretArn ??
      secret(
        'service-token-secret',
        'HS256 secret of the JobSphere chat server API tokens (SERVICE_TOKEN_SECRET)',
        new Password(this, 'service-token', { length: 64, special: false }).result,
      );
    this.webhookSecretArn = options.webhooks
      ? (options.webhooks.secretArn ??
        secret(
          'webhook-secret',
          'Standard Webhooks signing secret of the JobSphere chat events (WEBHOOK_SECRET)',
          `whsec_${new Id(this, 'webhook-key', { byteLength: 32 }).b64Std}`,
        ))
      : undefined;
    this.secretEnv = {
      SERVICE_TOKEN_SECRET: this.serviceTokenSecretArn,
      ...(this.webhookSecretArn && { WEBHOOK_SECRET: this.webhookSecretArn }),
    };
  }
}
