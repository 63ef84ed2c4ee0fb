import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription/index.js';

export interface MonitoringOptions {
  readonly namePrefix: string;
  readonly alarmEmail: string;
  readonly appLogGroupName: string;
  readonly logRetentionDays: number;
  /** ElastiCache node ids (CacheClusterId dimension): the guide's alarms are per node. */
  readonly redisNodeIds: string[];
  readonly docdbClusterId: string;
  readonly albArnSuffix: string;
  readonly targetGroupArnSuffix: string;
}

/** Thresholds in one place: the deployment guide's Redis alarms plus DocumentDB and ALB. */
export const ALARMS = {
  redisCpuPercent: 75,
  redisConnections: 1000,
  redisEvictions: 0,
  docdbCpuPercent: 80,
  alb5xxPerPeriod: 10,
  unhealthyHosts: 0,
} as const;

export function appLogGroupName(namePrefix: string): string {
  return `/jobsphere-chat/${namePrefix}/gateway`;
}

/**
 * CloudWatch alarms to an SNS topic with an e-mail subscription (confirmed by the recipient
 * once), and the gateway's application log group the CloudWatch agent ships to.
 */
export class Monitoring extends Construct {
  readonly topicArn: string;

  constructor(scope: Construct, id: string, options: MonitoringOptions) {
    super(scope, id);
    const prefix = options.namePrefix;

    new CloudwatchLogGroup(this, 'app-logs', {
      name: options.appLogGroupName,
      retentionInDays: options.logRetentionDays,
    });

    const topic = new SnsTopic(this, 'alarms', { name: `${prefix}-alarms` });
    new SnsTopicSubscription(this, 'alarm-email', {
      topicArn: topic.arn,
      protocol: 'email',
      endpoint: options.alarmEmail,
    });
    this.topicArn = topic.arn;

    const alarm = (
      alarmId: string,
      spec: {
        description: string;
        namespace: string;
        metricName: string;
        dimensions: Record<string, string>;
        statistic: 'Average' | 'Sum' | 'Maximum';
        threshold: number;
        evaluationPeriods: number;
        period?: number;
        comparisonOperator?: string;
        treatMissingData?: string;
      },
    ) =>
      new CloudwatchMetricAlarm(this, alarmId, {
        alarmName: `${prefix}-${alarmId}`,
        alarmDescription: spec.description,
        namespace: spec.namespace,
        metricName: spec.metricName,
        dimensions: spec.dimensions,
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
      const dimensions = { CacheClusterId: node };
      alarm(`redis-cpu-${node}`, {
        description: `Redis node ${node} CPU above ${ALARMS.redisCpuPercent}% for 10 minutes`,
        namespace: 'AWS/ElastiCache',
        metricName: 'CPUUtilization',
        dimensions,
        statistic: 'Average',
        threshold: ALARMS.redisCpuPercent,
        evaluationPeriods: 2,
      });
      alarm(`redis-connections-${node}`, {
        description: `Redis node ${node} has more than ${ALARMS.redisConnections} client connections`,
        namespace: 'AWS/ElastiCache',
        metricName: 'CurrConnections',
        dimensions,
        statistic: 'Average',
        threshold: ALARMS.redisConnections,
        evaluationPeriods: 1,
      });
      alarm(`redis-evictions-${node}`, {
        description: `Redis node ${node} evicted keys (memory pressure)`,
        namespace: 'AWS/ElastiCache',
        metricName: 'Evictions',
        dimensions,
        statistic: 'Sum',
        threshold: ALARMS.redisEvictions,
        evaluationPeriods: 1,
        treatMissingData: 'notBreaching',
      });
    }

    alarm('docdb-cpu', {
      description: `DocumentDB CPU above ${ALARMS.docdbCpuPercent}% for 10 minutes`,
      namespace: 'AWS/DocDB',
      metricName: 'CPUUtilization',
      dimensions: { DBClusterIdentifier: options.docdbClusterId },
      statistic: 'Average',
      threshold: ALARMS.docdbCpuPercent,
      evaluationPeriods: 2,
    });

    const lbDimensions = { LoadBalancer: options.albArnSuffix };
    alarm('alb-elb-5xx', {
      description: 'ALB answered 5xx itself (no healthy target, timeouts)',
      namespace: 'AWS/ApplicationELB',
      metricName: 'HTTPCode_ELB_5XX_Count',
      dimensions: lbDimensions,
      statistic: 'Sum',
      threshold: ALARMS.alb5xxPerPeriod,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
    });
    alarm('alb-target-5xx', {
      description: 'Gateway instances answered 5xx',
      namespace: 'AWS/ApplicationELB',
      metricName: 'HTTPCode_Target_5XX_Count',
      dimensions: { ...lbDimensions, TargetGroup: options.targetGroupArnSuffix },
      statistic: 'Sum',
      threshold: ALARMS.alb5xxPerPeriod,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
    });
    alarm('alb-unhealthy-hosts', {
      description: 'A gateway instance fails the /health check',
      namespace: 'AWS/ApplicationELB',
      metricName: 'UnHealthyHostCount',
      dimensions: { ...lbDimensions, TargetGroup: options.targetGroupArnSuffix },
      statistic: 'Maximum',
      threshold: ALARMS.unhealthyHosts,
      evaluationPeriods: 2,
      period: 60,
    });
  }
}
