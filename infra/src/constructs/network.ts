import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group/index.js';
import { Eip } from '@cdktf/provider-aws/lib/eip/index.js';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway/index.js';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway/index.js';
import { Route } from '@cdktf/provider-aws/lib/route/index.js';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table/index.js';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association/index.js';
import { Subnet } from '@cdktf/provider-aws/lib/subnet/index.js';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint/index.js';
import { Fn } from 'cdktf';
import { SKIP_REASONS, skipCheck } from './checkov-skip.js';

/** The /24 with the given index inside a /16 VPC (10.40.0.0/16, 3 -> 10.40.3.0/24). */
export function subnetCidr(vpcCidr: string, index: number): string {
  const match = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(vpcCidr);
  if (!match || index < 0 || index > 255)
    throw new Error(`expected a /16 VPC CIDR, got ${vpcCidr}`);
  return `${match[1]}.${match[2]}.${index}.0/24`;
}

export interface NetworkOptions {
  readonly namePrefix: string;
  readonly region: string;
  readonly cidr: string;
  readonly availabilityZones: readonly string[];
  /** 1: one NAT in the first AZ shared by all private subnets; 2: one per AZ. */
  readonly natGateways: number;
  readonly flowLogRetentionDays: number;
  readonly kmsKeyArn: string;
}

/**
 * The AWS APIs the gateway instances and the rotation function call: SSM (parameters, Session
 * Manager), Secrets Manager, CloudWatch Logs and metrics (the agent), Auto Scaling (the lifecycle
 * watcher). S3 already has a gateway endpoint.
 */
export const INTERFACE_ENDPOINT_SERVICES = [
  'ssm',
  'ssmmessages',
  'ec2messages',
  'secretsmanager',
  'logs',
  'monitoring',
  'autoscaling',
] as const;

/**
 * VPC over two AZs: public subnets (ALB, NAT) and private subnets (EC2, ElastiCache, DocumentDB),
 * NAT egress for the private side, an S3 gateway endpoint, VPC flow logs to CloudWatch (KMS) and,
 * optionally, interface endpoints for the AWS APIs.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly publicSubnetIds: string[];
  readonly privateSubnetIds: string[];
  private readonly namePrefix: string;
  private readonly region: string;

  constructor(scope: Construct, id: string, options: NetworkOptions) {
    super(scope, id);
    const { namePrefix: prefix, availabilityZones: azs } = options;
    this.namePrefix = prefix;
    this.region = options.region;

    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: options.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: prefix },
    });
    // The VPC's default group allows all traffic between its members and all egress; nothing here
    // uses it, so it is adopted with no rules at all (anything put in it by mistake is isolated).
    new DefaultSecurityGroup(this, 'default-security-group', {
      vpcId: this.vpc.id,
      tags: { Name: `${prefix}-default-unused` },
    });
    const igw = new InternetGateway(this, 'igw', { vpcId: this.vpc.id, tags: { Name: prefix } });

    const publicRoutes = new RouteTable(this, 'public-rt', {
      vpcId: this.vpc.id,
      tags: { Name: `${prefix}-public` },
    });
    new Route(this, 'public-default', {
      routeTableId: publicRoutes.id,
      destinationCidrBlock: '0.0.0.0/0',
      gatewayId: igw.id,
    });

    const publicSubnets = azs.map((az, i) => {
      const subnet = new Subnet(this, `public-${i}`, {
        vpcId: this.vpc.id,
        availabilityZone: az,
        cidrBlock: subnetCidr(options.cidr, i),
        // Nothing in these subnets takes a public IP except the ALB and NAT, which get their own.
        mapPublicIpOnLaunch: false,
        tags: { Name: `${prefix}-public-${az}`, Tier: 'public' },
      });
      new RouteTableAssociation(this, `public-${i}-rta`, {
        subnetId: subnet.id,
        routeTableId: publicRoutes.id,
      });
      return subnet;
    });

    const nats = Array.from({ length: options.natGateways }, (_, i) => {
      const eip = new Eip(this, `nat-eip-${i}`, {
        domain: 'vpc',
        tags: { Name: `${prefix}-nat-${i}` },
      });
      return new NatGateway(this, `nat-${i}`, {
        allocationId: eip.allocationId,
        subnetId: publicSubnets[i]!.id,
        tags: { Name: `${prefix}-nat-${azs[i]}` },
        dependsOn: [igw],
      });
    });

    const privateRouteTables: RouteTable[] = [];
    const privateSubnets = azs.map((az, i) => {
      const subnet = new Subnet(this, `private-${i}`, {
        vpcId: this.vpc.id,
        availabilityZone: az,
        cidrBlock: subnetCidr(options.cidr, 10 + i),
        tags: { Name: `${prefix}-private-${az}`, Tier: 'private' },
      });
      const table = new RouteTable(this, `private-${i}-rt`, {
        vpcId: this.vpc.id,
        tags: { Name: `${prefix}-private-${az}` },
      });
      new Route(this, `private-${i}-default`, {
        routeTableId: table.id,
        destinationCidrBlock: '0.0.0.0/0',
        natGatewayId: nats[Math.min(i, nats.length - 1)]!.id,
      });
      new RouteTableAssociation(this, `private-${i}-rta`, {
        subnetId: subnet.id,
        routeTableId: table.id,
      });
      privateRouteTables.push(table);
      return subnet;
    });

    // The gateway bundle and the package repositories are S3 traffic: keep it off the NAT.
    new VpcEndpoint(this, 's3-endpoint', {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${options.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: privateRouteTables.map((t) => t.id),
      tags: { Name: `${prefix}-s3` },
    });

    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);

    const flowLogGroup = new CloudwatchLogGroup(this, 'flow-logs', {
      name: `/jobsphere-chat/${prefix}/vpc-flow-logs`,
      retentionInDays: options.flowLogRetentionDays,
      kmsKeyId: options.kmsKeyArn,
    });
    skipCheck(flowLogGroup, 'CKV_AWS_338', SKIP_REASONS.logRetention);
    const flowLogRole = new IamRole(this, 'flow-logs-role', {
      name: `${prefix}-vpc-flow-logs`,
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      }),
    });
    new IamRolePolicy(this, 'flow-logs-policy', {
      role: flowLogRole.id,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
            Resource: [flowLogGroup.arn, `${flowLogGroup.arn}:*`],
          },
        ],
      }),
    });
    new FlowLog(this, 'flow-log', {
      vpcId: this.vpc.id,
      trafficType: 'ALL',
      logDestinationType: 'cloud-watch-logs',
      logDestination: flowLogGroup.arn,
      iamRoleArn: flowLogRole.arn,
      maxAggregationInterval: 60,
    });
  }

  /**
   * PrivateLink: the instances' AWS API calls stay inside the VPC (the guide's advice) instead of
   * leaving through the NAT gateway. Private DNS makes the SDKs and the CLI use them unchanged.
   */
  addInterfaceEndpoints(securityGroupId: string): void {
    for (const service of INTERFACE_ENDPOINT_SERVICES) {
      new VpcEndpoint(this, `${service}-endpoint`, {
        vpcId: this.vpc.id,
        serviceName: `com.amazonaws.${this.region}.${service}`,
        vpcEndpointType: 'Interface',
        privateDnsEnabled: true,
        subnetIds: this.privateSubnetIds,
        securityGroupIds: [securityGroupId],
        tags: { Name: `${this.namePrefix}-${service}` },
      });
    }
  }
}
