import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { DocdbCluster } from '@cdktf/provider-aws/lib/docdb-cluster/index.js';
import { DocdbClusterInstance } from '@cdktf/provider-aws/lib/docdb-cluster-instance/index.js';
import { DocdbClusterParameterGroup } from '@cdktf/provider-aws/lib/docdb-cluster-parameter-group/index.js';
import { DocdbSubnetGroup } from '@cdktf/provider-aws/lib/docdb-subnet-group/index.js';
import type { DatabaseConfig } from '../config/environments.js';
import { SKIP_REASONS, skipCheck } from './checkov-skip.js';
import { PORTS } from './security.js';

export interface DatabaseOptions {
  readonly namePrefix: string;
  readonly database: DatabaseConfig;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  /** Create the cluster from this snapshot (a restore replaces the cluster; see the runbook). */
  readonly snapshotIdentifier?: string | undefined;
}

export const DOCDB_MASTER_USERNAME = 'chatadmin';
/** The gateway's database; the application user may read and write only here. */
export const DOCDB_DATABASE = 'jobsphere';

/** Maintenance and backup windows (UTC), apart from each other and from Redis' (see cache.ts). */
export const DOCDB_WINDOWS = {
  backup: '02:00-03:00',
  clusterMaintenance: 'sun:06:30-sun:07:00',
  /** One instance at a time, 30 minutes apart from 07:00, so prod always keeps one serving. */
  instanceMaintenance: (index: number) => {
    const at = (minutes: number) =>
      `sun:${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    const start = 7 * 60 + 30 * index;
    return `${at(start)}-${at(start + 30)}`;
  },
} as const;

/**
 * DocumentDB 5 cluster: TLS required by its parameter group, storage encrypted with the stack's
 * KMS key, daily backups, audit and profiler logs exported to log groups created here first (with
 * retention and KMS, instead of the never-expiring groups DocumentDB would create), maintenance
 * windows per instance, and the master password generated and rotated by Secrets Manager
 * (manage_master_user_password), so it never passes through Terraform. The gateway never uses the
 * master user: see DocdbAppUser.
 */
export class Database extends Construct {
  readonly cluster: DocdbCluster;
  readonly instances: DocdbClusterInstance[];
  readonly endpoint: string;
  readonly readerEndpoint: string;
  readonly masterSecretArn: string;
  readonly clusterIdentifier: string;
  readonly instanceIdentifiers: string[];
  readonly port = PORTS.docdb;

  constructor(scope: Construct, id: string, options: DatabaseOptions) {
    super(scope, id);
    const { namePrefix: prefix, database } = options;
    this.clusterIdentifier = `${prefix}-docdb`;

    const subnetGroup = new DocdbSubnetGroup(this, 'subnets', {
      name: `${prefix}-docdb`,
      description: 'JobSphere chat DocumentDB: private subnets in both AZs',
      subnetIds: options.subnetIds,
    });
    const parameters = new DocdbClusterParameterGroup(this, 'parameters', {
      name: `${prefix}-docdb5`,
      family: 'docdb5.0',
      description: 'JobSphere chat DocumentDB: TLS required, audit and profiler logs',
      parameter: [
        { name: 'tls', value: 'enabled', applyMethod: 'pending-reboot' },
        { name: 'audit_logs', value: 'enabled', applyMethod: 'immediate' },
        { name: 'profiler', value: 'enabled', applyMethod: 'immediate' },
        { name: 'profiler_threshold_ms', value: '200', applyMethod: 'immediate' },
      ],
    });
    // DocumentDB writes to /aws/docdb/<cluster>/<log>; created here first, they get retention and KMS.
    const logGroups = (['audit', 'profiler'] as const).map(
      (log) =>
        new CloudwatchLogGroup(this, `${log}-logs`, {
          name: `/aws/docdb/${this.clusterIdentifier}/${log}`,
          retentionInDays: options.logRetentionDays,
          kmsKeyId: options.kmsKeyArn,
        }),
    );
    for (const group of logGroups) skipCheck(group, 'CKV_AWS_338', SKIP_REASONS.logRetention);

    const protect = database.protectFromDeletion;
    this.cluster = new DocdbCluster(this, 'cluster', {
      clusterIdentifier: this.clusterIdentifier,
      engine: 'docdb',
      engineVersion: database.engineVersion,
      port: PORTS.docdb,
      masterUsername: DOCDB_MASTER_USERNAME,
      manageMasterUserPassword: true,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [options.securityGroupId],
      dbClusterParameterGroupName: parameters.name,
      storageEncrypted: true,
      kmsKeyId: options.kmsKeyArn,
      backupRetentionPeriod: database.backupRetentionDays,
      preferredBackupWindow: DOCDB_WINDOWS.backup,
      preferredMaintenanceWindow: DOCDB_WINDOWS.clusterMaintenance,
      enabledCloudwatchLogsExports: ['audit', 'profiler'],
      deletionProtection: protect,
      skipFinalSnapshot: !protect,
      ...(protect ? { finalSnapshotIdentifier: `${prefix}-docdb-final` } : {}),
      ...(options.snapshotIdentifier ? { snapshotIdentifier: options.snapshotIdentifier } : {}),
      applyImmediately: !protect,
      dependsOn: logGroups,
    });
    if (database.backupRetentionDays < 7)
      skipCheck(
        this.cluster,
        'CKV_AWS_360',
        `backupRetentionDays is ${database.backupRetentionDays} in this environment (dev: throwaway data, restored from nothing); prod keeps 7 days`,
      );

    this.instanceIdentifiers = [];
    this.instances = Array.from({ length: database.instances }, (_, i) => {
      const identifier = `${prefix}-docdb-${i + 1}`;
      this.instanceIdentifiers.push(identifier);
      return new DocdbClusterInstance(this, `instance-${i + 1}`, {
        identifier,
        clusterIdentifier: this.cluster.id,
        instanceClass: database.instanceClass,
        engine: 'docdb',
        caCertIdentifier: 'rds-ca-rsa2048-g1',
        autoMinorVersionUpgrade: true,
        preferredMaintenanceWindow: DOCDB_WINDOWS.instanceMaintenance(i),
        promotionTier: i,
        applyImmediately: !protect,
      });
    });

    this.endpoint = this.cluster.endpoint;
    this.readerEndpoint = this.cluster.readerEndpoint;
    this.masterSecretArn = this.cluster.masterUserSecret.get(0).secretArn;
  }
}
