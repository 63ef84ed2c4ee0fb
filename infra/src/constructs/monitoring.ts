import { Construct } from 'constructs';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule/index.js';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target/index.js';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { CloudwatchLogMetricFilter } from '@cdktf/provider-aws/lib/cloudwatch-log-metric-filter/index.js';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy/index.js';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription/index.js';
import { SKIP_REASONS, skipCheck } from './checkov-skip.js';

/** Thresholds in one place: the deployment guide's Redis alarms plus what AWS recommends. */
export const ALARMS = {
  redisCpuPercent: 75,
  redisEngineCpuPercent: 90,
  redisMemoryPercent: 80,
  redisConnections: 1000,
  redisEvictions: 0,
  redisReplicationLagSeconds: 1,
  docdbCpuPercent: 80,
  /** db.t3.medium has 4 GiB; alarm below 10 % free. */
  docdbFreeableMemoryBytes: 400 * 1024 * 1024,
  /** db.t3.medium allows 500 connections; alarm at 80 %. */
  docdbConnections: 400,
  alb5xxPerPeriod: 10,
  unhealthyHosts: 0,
  gatewayErrorsPerPeriod: 10,
  gatewayRedisErrorsPerPeriod: 0,
} as const;

export const GATEWAY_METRICS_NAMESPACE = 'JobSphereChat/Gateway';

export function appLogGroupName(namePrefix: string): string {
  return `/jobsphere-chat/${namePrefix}/gateway`;
}
export function metricsLogGroupName(namePrefix: string): string {
  return `/jobsphere-chat/${namePrefix}/gateway-metrics`;
}
/** The alarms an instance refresh watches: it stops and rolls back when one fires. */
export function rollbackAlarmNames(namePrefix: string): string[] {
  return [`${namePrefix}-alb-unhealthy-hosts`, `${namePrefix}-alb-target-5xx`];
}

/** Instance refresh outcomes that need a person (EventBridge detail types of aws.autoscaling). */
export const REFRESH_FAILURE_EVENTS = [
  'EC2 Auto Scaling Instance Refresh Failed',
  'EC2 Auto Scaling Instance Refresh Cancelled',
  'EC2 Auto Scaling Instance Refresh Rollback Started',
  'EC2 Auto Scaling Instance Refresh Rollback Succeeded',
  'EC2 Auto Scaling Instance Refresh Rollback Failed',
] as const;

export interface MonitoringOptions {
  readonly namePrefix: string;
  readonly alarmEmail: string;
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  /** ElastiCache node ids (CacheClusterId dimension): the guide's alarms are per node. */
  readonly redisNodeIds: string[];
  readonly redisReplicated: boolean;
  readonly docdbInstanceIds: string[];
  readonly albArnSuffix: string;
  readonly targetGroupArnSuffix: string;
  readonly autoScalingGroupName: string;
  readonly minInstances: number;
}

interface AlarmSpec {
  description: string;
  namespace: string;
  metricName: string;
  dimensions?: Record<string, string>;
  statistic: 'Average' | 'Sum' | 'Maximum' | 'Minimum';
  threshold: number;
  evaluationPeriods: number;
  period?: number;
  comparisonOperator?: string;
  treatMissingData?: string;
}

/**
 * The alarm topic (KMS-encrypted, e-mail subscription confirmed once), the gateway's log groups
 * (KMS, retention), metrics derived from the gateway's JSON logs, every alarm of the deployment
 * guide and of the review, and an EventBridge rule that reports failed or rolled-back instance
 * refreshes. Dependency outages show here (and in /health/ready), never in the ALB target check.
 */
export class Monitoring extends Construct {
  readonly topicArn: string;
  readonly appLogGroupName: string;
  readonly metricsLogGroupName: string;

  constructor(scope: Construct, id: string, options: MonitoringOptions) {
    super(scope, id);
    const prefix = options.namePrefix;
    this.appLogGroupName = appLogGroupName(prefix);
    this.metricsLogGroupName = metricsLogGroupName(prefix);

    const logGroup = (logId: string, name: string) => {
      const group = new CloudwatchLogGroup(this, logId, {
        name,
        retentionInDays: options.logRetentionDays,
        kmsKeyId: options.kmsKeyArn,
      });
      skipCheck(group, 'CKV_AWS_338', SKIP_REASONS.logRetention);
      return group;
    };
    const appLogs = logGroup('app-logs', this.appLogGroupName);
    logGroup('metrics-logs', this.metricsLogGroupName);

    const topic = new SnsTopic(this, 'alarms', {
      name: `${prefix}-alarms`,
      kmsMasterKeyId: options.kmsKeyArn,
    });
    const topicPolicy = new DataAwsIamPolicyDocument(this, 'alarms-topic-policy', {
      statement: [
        {
          sid: 'AlarmsAndEventsPublish',
          effect: 'Allow',
          principals: [
            { type: 'Service', identifiers: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
          ],
          actions: ['sns:Publish'],
          resources: [topic.arn],
        },
      ],
    });
    new SnsTopicPolicy(this, 'alarms-policy', { arn: topic.arn, policy: topicPolicy.json });
    new SnsTopicSubscription(this, 'alarm-email', {
      topicArn: topic.arn,
      protocol: 'email',
      endpoint: options.alarmEmail,
    });
    this.topicArn = topic.arn;

    const alarm = (alarmId: string, spec: AlarmSpec) =>
      new CloudwatchMetricAlarm(this, alarmId, {
        alarmName: `${prefix}-${alarmId}`,
        alarmDescription: spec.description,
        namespace: spec.namespace,
        metricName: spec.metricName,
        ...(spec.dimensions ? { dimensions: spec.dimensions } : {}),
        statistic: spec.statistic,
        period: spec.period ?? 300,
        evaluationPeriods: spec.evaluationPeriods,
        threshold: spec.threshold,
        comparisonOperator: spec.comparisonOperator ?? 'GreaterThanThreshold',
        treatMissingData: spec.treatMissingData ?? 'missing',
        alarmActions: [topic.arn],
        okActions: [topic.arn],
      });

    for (const node of options.redisNodeIds) {
      const redis = (metricName: string) => ({
        namespace: 'AWS/ElastiCache',
        metricName,
        dimensions: { CacheClusterId: node },
      });
      alarm(`redis-cpu-${node}`, {
        ...redis('CPUUtilization'),
        description: `Redis node ${node} CPU above ${ALARMS.redisCpuPercent}% for 10 minutes`,
        statistic: 'Average',
        threshold: ALARMS.redisCpuPercent,
        evaluationPeriods: 2,
      });
      alarm(`redis-engine-cpu-${node}`, {
        ...redis('EngineCPUUtilization'),
        description: `Redis node ${node} engine thread above ${ALARMS.redisEngineCpuPercent}% for 10 minutes (Redis is single-threaded)`,
        statistic: 'Average',
        threshold: ALARMS.redisEngineCpuPercent,
        evaluationPeriods: 2,
      });
      alarm(`redis-memory-${node}`, {
        ...redis('DatabaseMemoryUsagePercentage'),
        description: `Redis node ${node} uses more than ${ALARMS.redisMemoryPercent}% of its memory`,
        statistic: 'Maximum',
        threshold: ALARMS.redisMemoryPercent,
        evaluationPeriods: 2,
      });
      alarm(`redis-connections-${node}`, {
        ...redis('CurrConnections'),
        description: `Redis node ${node} has more than ${ALARMS.redisConnections} client connections`,
        statistic: 'Average',
        threshold: ALARMS.redisConnections,
        evaluationPeriods: 1,
      });
      alarm(`redis-evictions-${node}`, {
        ...redis('Evictions'),
        description: `Redis node ${node} evicted keys (memory pressure)`,
        statistic: 'Sum',
        threshold: ALARMS.redisEvictions,
        evaluationPeriods: 1,
        treatMissingData: 'notBreaching',
      });
      if (options.redisReplicated) {
        // Only replicas report it; which node is a replica changes with every failover.
        alarm(`redis-replication-lag-${node}`, {
          ...redis('ReplicationLag'),
          description: `Redis node ${node} replicates more than ${ALARMS.redisReplicationLagSeconds}s behind its primary`,
          statistic: 'Maximum',
          threshold: ALARMS.redisReplicationLagSeconds,
          evaluationPeriods: 3,
          period: 60,
          treatMissingData: 'notBreaching',
        });
      }
    }

    for (const instance of options.docdbInstanceIds) {
      const docdb = (metricName: string) => ({
        namespace: 'AWS/DocDB',
        metricName,
        dimensions: { DBInstanceIdentifier: instance },
      });
      alarm(`docdb-cpu-${instance}`, {
        ...docdb('CPUUtilization'),
        description: `DocumentDB instance ${instance} CPU above ${ALARMS.docdbCpuPercent}% for 10 minutes`,
        statistic: 'Average',
        threshold: ALARMS.docdbCpuPercent,
        evaluationPeriods: 2,
      });
      alarm(`docdb-memory-${instance}`, {
        ...docdb('FreeableMemory'),
        description: `DocumentDB instance ${instance} has less than ${ALARMS.docdbFreeableMemoryBytes / 1024 / 1024} MiB free memory`,
        statistic: 'Minimum',
        threshold: ALARMS.docdbFreeableMemoryBytes,
        evaluationPeriods: 2,
        comparisonOperator: 'LessThanThreshold',
      });
      alarm(`docdb-connections-${instance}`, {
        ...docdb('DatabaseConnections'),
        description: `DocumentDB instance ${instance} has more than ${ALARMS.docdbConnections} connections`,
        statistic: 'Maximum',
        threshold: ALARMS.docdbConnections,
        evaluationPeriods: 1,
      });
    }

    const lb = { LoadBalancer: options.albArnSuffix };
    const target = { ...lb, TargetGroup: options.targetGroupArnSuffix };
    alarm('alb-elb-5xx', {
      description: 'ALB answered 5xx itself (no healthy target, timeouts)',
      namespace: 'AWS/ApplicationELB',
      metricName: 'HTTPCode_ELB_5XX_Count',
      dimensions: lb,
      statistic: 'Sum',
      threshold: ALARMS.alb5xxPerPeriod,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
    });
    alarm('alb-target-5xx', {
      description: 'Gateway instances answered 5xx',
      namespace: 'AWS/ApplicationELB',
      metricName: 'HTTPCode_Target_5XX_Count',
      dimensions: target,
      statistic: 'Sum',
      threshold: ALARMS.alb5xxPerPeriod,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
    });
    alarm('alb-unhealthy-hosts', {
      description: 'A gateway instance fails its own /health check (not a dependency outage)',
      namespace: 'AWS/ApplicationELB',
      metricName: 'UnHealthyHostCount',
      dimensions: target,
      statistic: 'Maximum',
      threshold: ALARMS.unhealthyHosts,
      evaluationPeriods: 2,
      period: 60,
      treatMissingData: 'notBreaching',
    });
    alarm('alb-healthy-hosts', {
      description: `Fewer than ${options.minInstances} healthy gateway instances behind the ALB`,
      namespace: 'AWS/ApplicationELB',
      metricName: 'HealthyHostCount',
      dimensions: target,
      statistic: 'Minimum',
      threshold: options.minInstances,
      evaluationPeriods: 3,
      period: 60,
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'breaching',
    });

    // The gateway logs JSON lines ({"level":"error","context":"Redis",...}); what it reports about
    // its dependencies becomes metrics, so an outage the ALB must not act on still pages someone.
    const logMetric = (filterId: string, pattern: string, metricName: string) =>
      new CloudwatchLogMetricFilter(this, `filter-${filterId}`, {
        name: `${prefix}-${filterId}`,
        logGroupName: appLogs.name,
        pattern,
        metricTransformation: {
          name: metricName,
          namespace: GATEWAY_METRICS_NAMESPACE,
          value: '1',
          defaultValue: '0',
          dimensions: {},
        },
      });
    logMetric('gateway-errors', GATEWAY_ERROR_PATTERN, 'GatewayErrors');
    logMetric('gateway-redis-errors', GATEWAY_REDIS_ERROR_PATTERN, 'GatewayRedisErrors');
    alarm('gateway-errors', {
      description: `Gateways logged more than ${ALARMS.gatewayErrorsPerPeriod} errors in 5 minutes (store, Redis, unexpected)`,
      namespace: GATEWAY_METRICS_NAMESPACE,
      metricName: 'GatewayErrors',
      statistic: 'Sum',
      threshold: ALARMS.gatewayErrorsPerPeriod,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
    });
    alarm('gateway-redis-errors', {
      description: 'Gateways report Redis errors (failover, AUTH, network) for 10 minutes',
      namespace: GATEWAY_METRICS_NAMESPACE,
      metricName: 'GatewayRedisErrors',
      statistic: 'Sum',
      threshold: ALARMS.gatewayRedisErrorsPerPeriod,
      evaluationPeriods: 2,
      treatMissingData: 'notBreaching',
    });

    // A failed or rolled-back deploy is an event, not a metric: EventBridge sends it to the topic.
    const refreshEvents = new CloudwatchEventRule(this, 'instance-refresh-failures', {
      name: `${prefix}-instance-refresh-failures`,
      description:
        'Instance refreshes of the gateway group that failed, were cancelled or rolled back',
      eventPattern: JSON.stringify({
        source: ['aws.autoscaling'],
        'detail-type': [...REFRESH_FAILURE_EVENTS],
        detail: { AutoScalingGroupName: [options.autoScalingGroupName] },
      }),
    });
    new CloudwatchEventTarget(this, 'instance-refresh-failures-to-topic', {
      rule: refreshEvents.name,
      arn: topic.arn,
    });
  }
}

/** CloudWatch Logs filter patterns over the gateway's JSON log lines. */
export const GATEWAY_ERROR_PATTERN = '{ ($.level = "error") || ($.level = "fatal") }';
export const GATEWAY_REDIS_ERROR_PATTERN = '{ ($.level = "error") && ($.context = "Redis") }';
