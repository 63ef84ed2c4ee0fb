import { Construct } from 'constructs';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';
import { skipCheck } from './checkov-skip.js';

export const PORTS = { https: 443, http: 80, gateway: 4000, redis: 6379, docdb: 27017 } as const;

export interface SecurityOptions {
  readonly namePrefix: string;
  readonly vpcId: string;
  /** Create the security group of the interface endpoints (PrivateLink). */
  readonly privateLinkEndpoints: boolean;
}

/**
 * Least-privilege security groups, one per tier, with every rule a
 * separate resource so the synthesized JSON lists them exactly. Internet -> ALB (443, 80 for the
 * redirect) -> EC2 (4000) -> Redis (6379) / DocumentDB (27017); the rotation function reaches only
 * DocumentDB and HTTPS. No port 22 anywhere: shell access is SSM Session Manager.
 */
export class Security extends Construct {
  readonly albSecurityGroupId: string;
  readonly appSecurityGroupId: string;
  readonly redisSecurityGroupId: string;
  readonly docdbSecurityGroupId: string;
  readonly rotationSecurityGroupId: string;
  readonly endpointsSecurityGroupId: string | undefined;

  constructor(scope: Construct, id: string, options: SecurityOptions) {
    super(scope, id);
    const prefix = options.namePrefix;
    const group = (name: string, description: string) =>
      new SecurityGroup(this, name, {
        name: `${prefix}-${name}`,
        description,
        vpcId: options.vpcId,
        // Inline rules would fight the separate rule resources; none are declared here.
        revokeRulesOnDelete: true,
        tags: { Name: `${prefix}-${name}` },
      });
    const alb = group('alb', 'JobSphere chat ALB: HTTPS from the internet');
    const app = group('app', 'JobSphere chat gateway instances: port 4000 from the ALB only');
    const redis = group('redis', 'ElastiCache Redis: 6379 from the gateway instances only');
    const docdb = group(
      'docdb',
      'DocumentDB: 27017 from the gateway instances and the rotation function',
    );
    const rotation = group(
      'rotation',
      'DocumentDB user rotation function: DocumentDB and HTTPS out only',
    );

    const port = (p: number) => ({ ipProtocol: 'tcp', fromPort: p, toPort: p });
    const ingress = (name: string, groupId: string, p: number, from: string, description: string) =>
      new VpcSecurityGroupIngressRule(this, name, {
        securityGroupId: groupId,
        ...port(p),
        ...(from.includes('/') ? { cidrIpv4: from } : { referencedSecurityGroupId: from }),
        description,
      });
    const egress = (name: string, groupId: string, p: number, to: string, description: string) =>
      new VpcSecurityGroupEgressRule(this, name, {
        securityGroupId: groupId,
        ...port(p),
        ...(to.includes('/') ? { cidrIpv4: to } : { referencedSecurityGroupId: to }),
        description,
      });

    ingress('alb-in-https', alb.id, PORTS.https, '0.0.0.0/0', 'HTTPS from the internet');
    skipCheck(
      ingress('alb-in-http', alb.id, PORTS.http, '0.0.0.0/0', 'HTTP from the internet (redirect)'),
      'CKV_AWS_260',
      'port 80 only answers a 301 to HTTPS (the http-redirect listener); it forwards nothing to the gateway',
    );
    egress('alb-out-app', alb.id, PORTS.gateway, app.id, 'Forward to the gateway instances');

    ingress('app-in-alb', app.id, PORTS.gateway, alb.id, 'Gateway traffic and health checks');
    egress(
      'app-out-https',
      app.id,
      PORTS.https,
      '0.0.0.0/0',
      'AWS APIs (endpoints or NAT), package repositories, the RDS CA bundle',
    );
    egress('app-out-redis', app.id, PORTS.redis, redis.id, 'ElastiCache Redis');
    egress('app-out-docdb', app.id, PORTS.docdb, docdb.id, 'DocumentDB');

    ingress('redis-in-app', redis.id, PORTS.redis, app.id, 'Redis from the gateway instances');
    ingress('docdb-in-app', docdb.id, PORTS.docdb, app.id, 'DocumentDB from the gateway');
    ingress('docdb-in-rotation', docdb.id, PORTS.docdb, rotation.id, 'User rotation function');

    egress('rotation-out-docdb', rotation.id, PORTS.docdb, docdb.id, 'DocumentDB');
    egress(
      'rotation-out-https',
      rotation.id,
      PORTS.https,
      '0.0.0.0/0',
      'Secrets Manager (endpoint or NAT) and the RDS CA bundle',
    );

    if (options.privateLinkEndpoints) {
      const endpoints = group('endpoints', 'Interface endpoints: HTTPS from the VPC workloads');
      ingress('endpoints-in-app', endpoints.id, PORTS.https, app.id, 'AWS APIs from the gateway');
      ingress(
        'endpoints-in-rotation',
        endpoints.id,
        PORTS.https,
        rotation.id,
        'AWS APIs from the rotation function',
      );
      this.endpointsSecurityGroupId = endpoints.id;
    } else {
      this.endpointsSecurityGroupId = undefined;
    }

    this.albSecurityGroupId = alb.id;
    this.appSecurityGroupId = app.id;
    this.redisSecurityGroupId = redis.id;
    this.docdbSecurityGroupId = docdb.id;
    this.rotationSecurityGroupId = rotation.id;
  }
}
