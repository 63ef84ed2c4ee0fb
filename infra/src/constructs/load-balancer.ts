import { Construct } from 'constructs';
import { AcmCertificate } from '@cdktf/provider-aws/lib/acm-certificate/index.js';
import { AcmCertificateValidation } from '@cdktf/provider-aws/lib/acm-certificate-validation/index.js';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { DataAwsElbServiceAccount } from '@cdktf/provider-aws/lib/data-aws-elb-service-account/index.js';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { DataAwsRoute53Zone } from '@cdktf/provider-aws/lib/data-aws-route53-zone/index.js';
import { Lb } from '@cdktf/provider-aws/lib/lb/index.js';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener/index.js';
import { LbListenerRule } from '@cdktf/provider-aws/lib/lb-listener-rule/index.js';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group/index.js';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration/index.js';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls/index.js';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { Wafv2WebAcl } from '@cdktf/provider-aws/lib/wafv2-web-acl/index.js';
import { Wafv2WebAclAssociation } from '@cdktf/provider-aws/lib/wafv2-web-acl-association/index.js';
import { Wafv2WebAclLoggingConfiguration } from '@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration/index.js';
import type { LoadBalancerConfig } from '../config/environments.js';
import { SKIP_REASONS, skipCheck } from './checkov-skip.js';
import { PORTS } from './security.js';

/** The target-group check: this instance only (draining, its own process), never dependencies. */
export const HEALTH_CHECK_PATH = '/health';
export const TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';
/** Paths the ALB answers itself with 404: the metrics never leave the instance. */
export const BLOCKED_PATHS = ['/metrics', '/metrics/*'] as const;

export interface LoadBalancerOptions {
  readonly namePrefix: string;
  readonly accountId: string;
  readonly vpcId: string;
  readonly publicSubnetIds: string[];
  readonly securityGroupId: string;
  readonly hostedZoneId: string;
  readonly domainName: string;
  readonly settings: LoadBalancerConfig;
  /** Long-polling needs every request of a session on one instance: only then stick. */
  readonly stickySessions: boolean;
  readonly deletionProtection: boolean;
  /** The WAF's request log: its group's key and retention. */
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
}

/**
 * Internet-facing ALB: HTTPS on 443 with a DNS-validated ACM certificate, 80 redirecting to 443,
 * `/metrics` answered by the ALB itself, access logs in S3, an optional WAF rate-based rule, and a
 * target group on the gateway port with `GET /health`, an idle timeout above Socket.IO's heartbeat
 * and a deregistration delay that covers the lifecycle watcher and the drain. The domain is an
 * alias record in the given hosted zone.
 */
export class LoadBalancer extends Construct {
  readonly alb: Lb;
  readonly targetGroup: LbTargetGroup;
  readonly httpsListener: LbListener;

  constructor(scope: Construct, id: string, options: LoadBalancerOptions) {
    super(scope, id);
    const prefix = options.namePrefix;
    const { settings } = options;

    const zone = new DataAwsRoute53Zone(this, 'zone', { zoneId: options.hostedZoneId });
    const certificate = new AcmCertificate(this, 'certificate', {
      domainName: options.domainName,
      validationMethod: 'DNS',
      lifecycle: {
        createBeforeDestroy: true,
        precondition: [
          {
            // The domain is the zone's apex or a name below it.
            condition: `\${"${options.domainName}" == trimsuffix(${zone.fqn}.name, ".") || endswith("${options.domainName}", format(".%s", trimsuffix(${zone.fqn}.name, ".")))}`,
            errorMessage: `domainName ${options.domainName} is not inside hosted zone ${options.hostedZoneId}`,
          },
        ],
      },
      tags: { Name: options.domainName },
    });
    const validationOption = certificate.domainValidationOptions.get(0);
    const validationRecord = new Route53Record(this, 'certificate-validation-record', {
      zoneId: zone.zoneId,
      name: validationOption.resourceRecordName,
      type: validationOption.resourceRecordType,
      records: [validationOption.resourceRecordValue],
      ttl: 60,
      allowOverwrite: true,
    });
    const validation = new AcmCertificateValidation(this, 'certificate-validation', {
      certificateArn: certificate.arn,
      validationRecordFqdns: [validationRecord.fqdn],
    });

    // Access logs: the ALB writes with SSE-S3 only (no KMS), through its regional log account.
    const logs = new S3Bucket(this, 'access-logs', {
      bucketPrefix: `${prefix}-alb-logs-`,
      forceDestroy: !options.deletionProtection,
    });
    skipCheck(logs, 'CKV_AWS_145', 'ALB access logs support SSE-S3 only (AES256), not SSE-KMS');
    skipCheck(
      logs,
      'CKV_AWS_18',
      'this is the access-log bucket: logging it to itself would log every log write',
    );
    skipCheck(
      logs,
      'CKV_AWS_21',
      'logs are written once and expire by lifecycle (accessLogRetentionDays); versions would outlive that retention',
    );
    skipCheck(logs, 'CKV_AWS_144', SKIP_REASONS.noReplication);
    skipCheck(logs, 'CKV2_AWS_62', SKIP_REASONS.noEventConsumer);
    new S3BucketPublicAccessBlock(this, 'access-logs-public-access', {
      bucket: logs.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'access-logs-ownership', {
      bucket: logs.id,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, 'access-logs-encryption', {
      bucket: logs.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    });
    new S3BucketLifecycleConfiguration(this, 'access-logs-lifecycle', {
      bucket: logs.id,
      rule: [
        {
          id: 'expire-access-logs',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          expiration: [{ days: settings.accessLogRetentionDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });
    const elbAccount = new DataAwsElbServiceAccount(this, 'elb-account');
    const logPolicy = new DataAwsIamPolicyDocument(this, 'access-logs-policy-document', {
      statement: [
        {
          sid: 'AlbWritesAccessLogs',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [elbAccount.arn] }],
          actions: ['s3:PutObject'],
          resources: [`${logs.arn}/alb/AWSLogs/${options.accountId}/*`],
        },
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['s3:*'],
          resources: [logs.arn, `${logs.arn}/*`],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
      ],
    });
    const logBucketPolicy = new S3BucketPolicy(this, 'access-logs-policy', {
      bucket: logs.id,
      policy: logPolicy.json,
    });

    this.alb = new Lb(this, 'alb', {
      name: prefix,
      internal: false,
      loadBalancerType: 'application',
      ipAddressType: 'ipv4',
      securityGroups: [options.securityGroupId],
      subnets: options.publicSubnetIds,
      idleTimeout: settings.idleTimeoutSeconds,
      dropInvalidHeaderFields: true,
      enableHttp2: true,
      enableDeletionProtection: options.deletionProtection,
      accessLogs: { bucket: logs.bucket, prefix: 'alb', enabled: true },
      dependsOn: [logBucketPolicy],
    });
    if (!options.deletionProtection)
      skipCheck(
        this.alb,
        'CKV_AWS_150',
        'deletion protection is on where the stack protects its data (prod); this environment is torn down with `pnpm destroy`',
      );
    if (settings.wafRequestsPer5MinPerIp !== undefined)
      skipCheck(
        this.alb,
        'CKV2_AWS_76',
        'the ACL has the Log4j rules (AWSManagedRulesKnownBadInputsRuleSet; CKV_AWS_192 passes); this check also demands AWSManagedRulesAnonymousIpList, which blocks VPN and hosting-provider addresses and so candidates and recruiters on corporate VPNs',
      );
    else
      skipCheck(
        this.alb,
        'CKV2_AWS_28',
        'no WAF in this environment (loadBalancer.wafRequestsPer5MinPerIp unset, dev: no real users); the gateway enforces its own per-IP and per-user budgets; prod has the WAF',
      );

    this.targetGroup = new LbTargetGroup(this, 'gateway', {
      name: `${prefix}-gw`,
      port: PORTS.gateway,
      protocol: 'HTTP',
      targetType: 'instance',
      vpcId: options.vpcId,
      deregistrationDelay: String(settings.deregistrationDelaySeconds),
      healthCheck: {
        enabled: true,
        protocol: 'HTTP',
        port: 'traffic-port',
        path: HEALTH_CHECK_PATH,
        matcher: '200',
        interval: 10,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
      },
      stickiness: {
        type: 'lb_cookie',
        enabled: options.stickySessions,
        cookieDuration: 86_400,
      },
    });

    this.httpsListener = new LbListener(this, 'https', {
      loadBalancerArn: this.alb.arn,
      port: PORTS.https,
      protocol: 'HTTPS',
      sslPolicy: TLS_POLICY,
      certificateArn: validation.certificateArn,
      defaultAction: [{ type: 'forward', targetGroupArn: this.targetGroup.arn }],
    });
    // Defence in depth: production serves /metrics on a loopback port only (METRICS_PORT), and
    // even if a gateway ever answered it on 4000 again, the internet gets the ALB's 404.
    new LbListenerRule(this, 'block-metrics', {
      listenerArn: this.httpsListener.arn,
      priority: 1,
      condition: [{ pathPattern: { values: [...BLOCKED_PATHS] } }],
      action: [
        {
          type: 'fixed-response',
          fixedResponse: { contentType: 'text/plain', statusCode: '404', messageBody: 'Not Found' },
        },
      ],
    });
    new LbListener(this, 'http-redirect', {
      loadBalancerArn: this.alb.arn,
      port: PORTS.http,
      protocol: 'HTTP',
      defaultAction: [
        {
          type: 'redirect',
          redirect: { protocol: 'HTTPS', port: String(PORTS.https), statusCode: 'HTTP_301' },
        },
      ],
    });

    if (settings.wafRequestsPer5MinPerIp !== undefined) {
      const visibility = (metricName: string) => ({
        cloudwatchMetricsEnabled: true,
        metricName,
        sampledRequestsEnabled: true,
      });
      const acl = new Wafv2WebAcl(this, 'waf', {
        name: `${prefix}-alb`,
        description: 'JobSphere chat ALB: per-IP rate limit and known bad inputs',
        scope: 'REGIONAL',
        defaultAction: { allow: {} },
        rule: [
          {
            name: 'rate-limit-per-ip',
            priority: 1,
            action: { block: {} },
            // The binding passes `statement` through untyped: Terraform's own (snake_case) names.
            statement: {
              rate_based_statement: {
                limit: settings.wafRequestsPer5MinPerIp,
                aggregate_key_type: 'IP',
                evaluation_window_sec: 300,
              },
            },
            visibilityConfig: visibility(`${prefix}-rate-limit`),
          },
          {
            // Request patterns of known exploits (Log4Shell's JNDI lookups among them).
            name: 'known-bad-inputs',
            priority: 2,
            overrideAction: { none: {} },
            statement: {
              managed_rule_group_statement: {
                vendor_name: 'AWS',
                name: 'AWSManagedRulesKnownBadInputsRuleSet',
              },
            },
            visibilityConfig: visibility(`${prefix}-known-bad-inputs`),
          },
        ],
        visibilityConfig: visibility(`${prefix}-alb`),
      });
      // WAF requires the `aws-waf-logs-` prefix. Bearer tokens and cookies are redacted: a
      // credential never reaches a log.
      const wafLogs = new CloudwatchLogGroup(this, 'waf-logs', {
        name: `aws-waf-logs-${prefix}`,
        retentionInDays: options.logRetentionDays,
        kmsKeyId: options.kmsKeyArn,
      });
      skipCheck(wafLogs, 'CKV_AWS_338', SKIP_REASONS.logRetention);
      new Wafv2WebAclLoggingConfiguration(this, 'waf-logging', {
        resourceArn: acl.arn,
        logDestinationConfigs: [wafLogs.arn],
        redactedFields: ['authorization', 'cookie'].map((name) => ({ singleHeader: { name } })),
      });
      new Wafv2WebAclAssociation(this, 'waf-association', {
        resourceArn: this.alb.arn,
        webAclArn: acl.arn,
      });
    }

    new Route53Record(this, 'alias', {
      zoneId: zone.zoneId,
      name: options.domainName,
      type: 'A',
      alias: { name: this.alb.dnsName, zoneId: this.alb.zoneId, evaluateTargetHealth: true },
    });
  }
}
