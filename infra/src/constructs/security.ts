import { Construct } from 'constructs';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';

export const PORTS = { https: 443, http: 80, gateway: 4000, redis: 6379, docdb: 27017 } as const;

export interface SecurityOptions {
  readonly namePrefix: string;
  readonly vpcId: string;
}

/**
 * Least-privilege security groups, one per tier, with every rule a separate resource so the
 * synthesized JSON lists them exactly. Internet -> ALB (443, 80 for the redirect) -> EC2 (4000)
 * -> Redis (6379) / DocumentDB (27017). No port 22 anywhere: shell access is SSM Session Manager.
 */
export class Security extends Construct {
  readonly albSecurityGroupId: string;
  readonly appSecurityGroupId: string;
  readonly redisSecurityGroupId: string;
  readonly docdbSecurityGroupId: string;
  /** Customer-managed key for Redis and DocumentDB at rest and the stack's own secrets. */
  readonly kmsKeyArn: string;

  constructor(scope: Construct, id: string, options: SecurityOptions) {
    super(scope, id);
    const key = new KmsKey(this, 'data-key', {
      description: `${options.namePrefix}: ElastiCache, DocumentDB and Secrets Manager encryption`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
    });
    new KmsAlias(this, 'data-key-alias', {
      name: `alias/${options.namePrefix}-data`,
      targetKeyId: key.keyId,
    });
    this.kmsKeyArn = key.arn;

    const group = (name: string, description: string) =>
      new SecurityGroup(this, name, {
        name: `${options.namePrefix}-${name}`,
        description,
        vpcId: options.vpcId,
        // Inline rules would fight the separate rule resources; none are declared here.
        revokeRulesOnDelete: true,
        tags: { Name: `${options.namePrefix}-${name}` },
      });
    const alb = group('alb', 'JobSphere chat ALB: HTTPS from the internet');
    const app = group('app', 'JobSphere chat gateway instances: port 4000 from the ALB only');
    const redis = group('redis', 'ElastiCache Redis: 6379 from the gateway instances only');
    const docdb = group('docdb', 'DocumentDB: 27017 from the gateway instances only');

    const tcp = { ipProtocol: 'tcp' } as const;
    const port = (p: number) => ({ ...tcp, fromPort: p, toPort: p });

    for (const [name, p] of [
      ['https', PORTS.https],
      ['http', PORTS.http],
    ] as const) {
      new VpcSecurityGroupIngressRule(this, `alb-in-${name}`, {
        securityGroupId: alb.id,
        ...port(p),
        cidrIpv4: '0.0.0.0/0',
        description: `${name.toUpperCase()} from the internet`,
      });
    }
    new VpcSecurityGroupEgressRule(this, 'alb-out-app', {
      securityGroupId: alb.id,
      ...port(PORTS.gateway),
      referencedSecurityGroupId: app.id,
      description: 'Forward to the gateway instances',
    });

    new VpcSecurityGroupIngressRule(this, 'app-in-alb', {
      securityGroupId: app.id,
      ...port(PORTS.gateway),
      referencedSecurityGroupId: alb.id,
      description: 'Gateway traffic and health checks from the ALB',
    });
    new VpcSecurityGroupEgressRule(this, 'app-out-https', {
      securityGroupId: app.id,
      ...port(PORTS.https),
      cidrIpv4: '0.0.0.0/0',
      description: 'AWS APIs (SSM, Secrets Manager, S3, CloudWatch) and package repositories',
    });
    new VpcSecurityGroupEgressRule(this, 'app-out-redis', {
      securityGroupId: app.id,
      ...port(PORTS.redis),
      referencedSecurityGroupId: redis.id,
      description: 'ElastiCache Redis',
    });
    new VpcSecurityGroupEgressRule(this, 'app-out-docdb', {
      securityGroupId: app.id,
      ...port(PORTS.docdb),
      referencedSecurityGroupId: docdb.id,
      description: 'DocumentDB',
    });

    new VpcSecurityGroupIngressRule(this, 'redis-in-app', {
      securityGroupId: redis.id,
      ...port(PORTS.redis),
      referencedSecurityGroupId: app.id,
      description: 'Redis from the gateway instances',
    });
    new VpcSecurityGroupIngressRule(this, 'docdb-in-app', {
      securityGroupId: docdb.id,
      ...port(PORTS.docdb),
      referencedSecurityGroupId: app.id,
      description: 'DocumentDB from the gateway instances',
    });

    this.albSecurityGroupId = alb.id;
    this.appSecurityGroupId = app.id;
    this.redisSecurityGroupId = redis.id;
    this.docdbSecurityGroupId = docdb.id;
  }
}
