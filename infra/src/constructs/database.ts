import { Construct } from 'constructs';
import { DocdbCluster } from '@cdktf/provider-aws/lib/docdb-cluster/index.js';
import { DocdbClusterInstance } from '@cdktf/provider-aws/lib/docdb-cluster-instance/index.js';
import { DocdbClusterParameterGroup } from '@cdktf/provider-aws/lib/docdb-cluster-parameter-group/index.js';
import { DocdbSubnetGroup } from '@cdktf/provider-aws/lib/docdb-subnet-group/index.js';
import type { DatabaseConfig } from '../config/environments.js';
import { PORTS } from './security.js';

export interface DatabaseOptions {
  readonly namePrefix: string;
  readonly database: DatabaseConfig;
  readonly subnetIds: string[];
  readonly securityGroupId: string;
  readonly kmsKeyArn: string;
}

export const DOCDB_MASTER_USERNAME = 'chatadmin';

/**
 * DocumentDB 5 cluster: TLS required by its parameter group, storage encrypted with the stack's
 * KMS key, daily backups, audit and profiler logs exported to CloudWatch, and the master password
 * generated and rotated by Secrets Manager (manage_master_user_password), so it never passes
 * through Terraform at all.
 */
export class Database extends Construct {
  readonly cluster: DocdbCluster;
  readonly endpoint: string;
  readonly readerEndpoint: string;
  readonly masterSecretArn: string;
  readonly port = PORTS.docdb;

  constructor(scope: Construct, id: string, options: DatabaseOptions) {
    super(scope, id);
    const { namePrefix: prefix, database } = options;

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

    const protect = database.protectFromDeletion;
    this.cluster = new DocdbCluster(this, 'cluster', {
      clusterIdentifier: `${prefix}-docdb`,
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
      preferredBackupWindow: '02:00-03:00',
      preferredMaintenanceWindow: 'sun:06:30-sun:07:30',
      enabledCloudwatchLogsExports: ['audit', 'profiler'],
      deletionProtection: protect,
      skipFinalSnapshot: !protect,
      ...(protect ? { finalSnapshotIdentifier: `${prefix}-docdb-final` } : {}),
      applyImmediately: !protect,
    });

    for (let i = 0; i < database.instances; i++) {
      new DocdbClusterInstance(this, `instance-${i + 1}`, {
        identifier: `${prefix}-docdb-${i + 1}`,
        clusterIdentifier: this.cluster.id,
        instanceClass: database.instanceClass,
        engine: 'docdb',
        caCertIdentifier: 'rds-ca-rsa2048-g1',
        autoMinorVersionUpgrade: true,
        promotionTier: i,
        applyImmediately: !protect,
      });
    }

    this.endpoint = this.cluster.endpoint;
    this.readerEndpoint = this.cluster.readerEndpoint;
    this.masterSecretArn = this.cluster.masterUserSecret.get(0).secretArn;
  }
}
