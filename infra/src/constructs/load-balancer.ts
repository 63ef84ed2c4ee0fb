import { Construct } from 'constructs';
import { AcmCertificate } from '@cdktf/provider-aws/lib/acm-certificate/index.js';
import { AcmCertificateValidation } from '@cdktf/provider-aws/lib/acm-certificate-validation/index.js';
import { DataAwsRoute53Zone } from '@cdktf/provider-aws/lib/data-aws-route53-zone/index.js';
import { Lb } from '@cdktf/provider-aws/lib/lb/index.js';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener/index.js';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group/index.js';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record/index.js';
import type { LoadBalancerConfig } from '../config/environments.js';
import { PORTS } from './security.js';

export const HEALTH_CHECK_PATH = '/health';
export const TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

export interface LoadBalancerOptions {
  readonly namePrefix: string;
  readonly vpcId: string;
  readonly publicSubnetIds: string[];
  readonly securityGroupId: string;
  readonly hostedZoneName: string;
  readonly domainName: string;
  readonly settings: LoadBalancerConfig;
  /** Long-polling needs every request of a session on one instance: only then stick. */
  readonly stickySessions: boolean;
  readonly deletionProtection: boolean;
}

/**
 * Internet-facing ALB: HTTPS on 443 with a DNS-validated ACM certificate, 80 redirecting to 443,
 * a target group on the gateway port with `GET /health`, an idle timeout above Socket.IO's
 * heartbeat and a deregistration delay that covers the gateway's drain. The domain is an alias
 * record in the hosted zone.
 */
export class LoadBalancer extends Construct {
  readonly alb: Lb;
  readonly targetGroup: LbTargetGroup;

  constructor(scope: Construct, id: string, options: LoadBalancerOptions) {
    super(scope, id);
    const prefix = options.namePrefix;

    const zone = new DataAwsRoute53Zone(this, 'zone', {
      name: options.hostedZoneName,
      privateZone: false,
    });
    const certificate = new AcmCertificate(this, 'certificate', {
      domainName: options.domainName,
      validationMethod: 'DNS',
      lifecycle: { createBeforeDestroy: true },
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

    this.alb = new Lb(this, 'alb', {
      name: prefix,
      internal: false,
      loadBalancerType: 'application',
      ipAddressType: 'ipv4',
      securityGroups: [options.securityGroupId],
      subnets: options.publicSubnetIds,
      idleTimeout: options.settings.idleTimeoutSeconds,
      dropInvalidHeaderFields: true,
      enableHttp2: true,
      enableDeletionProtection: options.deletionProtection,
    });

    this.targetGroup = new LbTargetGroup(this, 'gateway', {
      name: `${prefix}-gw`,
      port: PORTS.gateway,
      protocol: 'HTTP',
      targetType: 'instance',
      vpcId: options.vpcId,
      deregistrationDelay: String(options.settings.deregistrationDelaySeconds),
      healthCheck: {
        enabled: true,
        protocol: 'HTTP',
        port: 'traffic-port',
        path: HEALTH_CHECK_PATH,
        matcher: '200',
        interval: 15,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      },
      stickiness: {
        type: 'lb_cookie',
        enabled: options.stickySessions,
        cookieDuration: 86_400,
      },
    });

    new LbListener(this, 'https', {
      loadBalancerArn: this.alb.arn,
      port: PORTS.https,
      protocol: 'HTTPS',
      sslPolicy: TLS_POLICY,
      certificateArn: validation.certificateArn,
      defaultAction: [{ type: 'forward', targetGroupArn: this.targetGroup.arn }],
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

    new Route53Record(this, 'alias', {
      zoneId: zone.zoneId,
      name: options.domainName,
      type: 'A',
      alias: { name: this.alb.dnsName, zoneId: this.alb.zoneId, evaluateTargetHealth: true },
    });
  }
}
