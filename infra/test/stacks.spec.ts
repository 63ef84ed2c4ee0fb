import { environments, type EnvironmentName } from '../src/config/environments.js';
import {
  only,
  ref,
  resources,
  synthAll,
  normalize,
  type Attributes,
  type TerraformJson,
} from './support/synth.js';

const stacks = synthAll();
const names: EnvironmentName[] = ['dev', 'prod'];

describe.each(names)('%s stack', (name) => {
  const json: TerraformJson = stacks[name];
  const config = environments[name];
  const sg = (path: string) => ref(json, 'aws_security_group', `security/${path}`);

  it('spans two AZs with public and private subnets, NAT egress and flow logs', () => {
    const subnets = Object.values(resources(json, 'aws_subnet'));
    const tiers = (tier: string) => subnets.filter((s) => (s.tags as Attributes).Tier === tier);
    for (const tier of ['public', 'private']) {
      expect(
        tiers(tier)
          .map((s) => s.availability_zone)
          .sort(),
      ).toEqual([...config.availabilityZones]);
    }
    expect(subnets.some((s) => s.map_public_ip_on_launch === true)).toBe(false);
    expect(Object.keys(resources(json, 'aws_nat_gateway'))).toHaveLength(config.natGateways);
    expect(only(json, 'aws_flow_log')).toMatchObject({
      traffic_type: 'ALL',
      log_destination_type: 'cloud-watch-logs',
    });
  });

  it('has exactly the least-privilege ingress rules and no SSH', () => {
    const ingress = Object.values(resources(json, 'aws_vpc_security_group_ingress_rule')).map(
      (r) => ({
        group: r.security_group_id,
        port: r.from_port,
        to: r.to_port,
        source: r.cidr_ipv4 ?? r.cidr_ipv6 ?? r.referenced_security_group_id,
      }),
    );
    expect(ingress).toEqual(
      expect.arrayContaining([
        { group: sg('alb'), port: 443, to: 443, source: '0.0.0.0/0' },
        { group: sg('alb'), port: 80, to: 80, source: '0.0.0.0/0' },
        { group: sg('app'), port: 4000, to: 4000, source: sg('alb') },
        { group: sg('redis'), port: 6379, to: 6379, source: sg('app') },
        { group: sg('docdb'), port: 27017, to: 27017, source: sg('app') },
      ]),
    );
    expect(ingress).toHaveLength(5);
    expect(ingress.some((r) => Number(r.port) <= 22 && Number(r.to) >= 22)).toBe(false);
    // Inline rules or legacy rule resources would bypass the list above.
    expect(json.resource.aws_security_group_rule).toBeUndefined();
    for (const group of Object.values(resources(json, 'aws_security_group'))) {
      expect(group.ingress).toBeUndefined();
      expect(group.egress).toBeUndefined();
    }
  });

  it('limits egress to what each tier needs', () => {
    const egress = Object.values(resources(json, 'aws_vpc_security_group_egress_rule')).map(
      (r) => ({
        group: r.security_group_id,
        port: r.from_port,
        destination: r.cidr_ipv4 ?? r.referenced_security_group_id,
      }),
    );
    expect(egress).toEqual(
      expect.arrayContaining([
        { group: sg('alb'), port: 4000, destination: sg('app') },
        { group: sg('app'), port: 443, destination: '0.0.0.0/0' },
        { group: sg('app'), port: 6379, destination: sg('redis') },
        { group: sg('app'), port: 27017, destination: sg('docdb') },
      ]),
    );
    expect(egress).toHaveLength(4);
  });

  it('runs Redis 7 with TLS, AUTH from Secrets Manager, KMS at rest, snapshots and the slow log', () => {
    const redis = only(json, 'aws_elasticache_replication_group');
    const token = ref(json, 'random_password', 'cache/auth-token', 'result');
    expect(redis).toMatchObject({
      engine: 'redis',
      engine_version: '7.1',
      node_type: config.redis.nodeType,
      transit_encryption_enabled: true,
      at_rest_encryption_enabled: 'true',
      kms_key_id: ref(json, 'aws_kms_key', 'security/data-key', 'arn'),
      auth_token: token,
      snapshot_retention_limit: 7,
      snapshot_window: '03:00-05:00',
      security_group_ids: [sg('redis')],
    });
    expect(
      resources(json, 'aws_secretsmanager_secret_version')['cache/auth-secret-value'],
    ).toMatchObject({
      secret_string: token,
    });
    const logTypes = (redis.log_delivery_configuration as Attributes[]).map((l) => l.log_type);
    expect(logTypes).toContain('slow-log');
    expect(only(json, 'aws_elasticache_parameter_group')).toMatchObject({ family: 'redis7' });
  });

  it('uses DocumentDB with TLS, encryption, backups, exported logs and a managed master password', () => {
    const cluster = only(json, 'aws_docdb_cluster');
    expect(cluster).toMatchObject({
      storage_encrypted: true,
      manage_master_user_password: true,
      enabled_cloudwatch_logs_exports: ['audit', 'profiler'],
      vpc_security_group_ids: [sg('docdb')],
      backup_retention_period: config.database.backupRetentionDays,
    });
    expect(cluster.master_password).toBeUndefined();
    expect(only(json, 'aws_docdb_cluster_parameter_group').parameter).toContainEqual(
      expect.objectContaining({ name: 'tls', value: 'enabled' }),
    );
    expect(Object.keys(resources(json, 'aws_docdb_cluster_instance'))).toHaveLength(
      config.database.instances,
    );
  });

  it('serves HTTPS with a DNS-validated certificate and redirects HTTP', () => {
    const listeners = resources(json, 'aws_lb_listener');
    expect(listeners['load-balancer/https']).toMatchObject({
      port: 443,
      protocol: 'HTTPS',
      ssl_policy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      certificate_arn: ref(
        json,
        'aws_acm_certificate_validation',
        'load-balancer/certificate-validation',
        'certificate_arn',
      ),
    });
    expect(listeners['load-balancer/http-redirect']).toMatchObject({
      port: 80,
      default_action: [
        { type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', status_code: 'HTTP_301' } },
      ],
    });
    expect(only(json, 'aws_acm_certificate')).toMatchObject({
      domain_name: config.domainName,
      validation_method: 'DNS',
    });
    const alb = only(json, 'aws_lb');
    expect(alb).toMatchObject({ internal: false, drop_invalid_header_fields: true });
    expect(Number(alb.idle_timeout)).toBeGreaterThan(
      (config.socket.pingIntervalMs + config.socket.pingTimeoutMs) / 1000,
    );
  });

  it('health-checks GET /health on port 4000 and drains before deregistering', () => {
    const group = only(json, 'aws_lb_target_group');
    expect(group).toMatchObject({
      port: 4000,
      protocol: 'HTTP',
      health_check: expect.objectContaining({ path: '/health', matcher: '200', protocol: 'HTTP' }),
      stickiness: expect.objectContaining({ enabled: false }),
    });
    const delay = Number(group.deregistration_delay);
    expect(delay).toBeGreaterThanOrEqual(15);
    expect(delay).toBeLessThanOrEqual(30);
  });

  it('runs at least two gateway instances across both private subnets behind the target group', () => {
    const asg = only(json, 'aws_autoscaling_group');
    expect(Number(asg.min_size)).toBeGreaterThanOrEqual(2);
    expect(asg.vpc_zone_identifier).toEqual([
      ref(json, 'aws_subnet', 'network/private-0'),
      ref(json, 'aws_subnet', 'network/private-1'),
    ]);
    expect(asg.target_group_arns).toEqual([
      ref(json, 'aws_lb_target_group', 'load-balancer/gateway', 'arn'),
    ]);
    expect(asg.health_check_type).toBe('ELB');
    const template = only(json, 'aws_launch_template');
    expect(template.key_name).toBeUndefined();
    expect(template.metadata_options).toMatchObject({ http_tokens: 'required' });
    expect(template.block_device_mappings).toEqual([
      expect.objectContaining({ ebs: expect.objectContaining({ encrypted: 'true' }) }),
    ]);
    const script = Buffer.from(String(template.user_data), 'base64').toString('utf8');
    expect(script).toContain(`dnf install -y "nodejs$NODE_MAJOR"`);
    expect(script).toContain(`ExecStart=/usr/bin/node-${config.compute.nodeMajor} dist/main.js`);
  });

  it('lets instances read only their own secrets, parameters and bundle', () => {
    const policy = json.data.aws_iam_policy_document ?? {};
    const access = Object.values(policy).find((d) =>
      String((d['//'] as { metadata: { path: string } }).metadata.path).endsWith(
        'compute/instance-access',
      ),
    )!;
    const statements = access.statement as Attributes[];
    const bySid = Object.fromEntries(statements.map((s) => [s.sid, s]));
    expect(bySid.ReadOwnSecrets!.resources).toEqual([
      ref(json, 'aws_secretsmanager_secret', 'cache/auth-secret', 'arn'),
      ref(json, 'aws_secretsmanager_secret', 'compute/jwt-secret', 'arn'),
      expect.stringContaining('aws_docdb_cluster.'),
    ]);
    for (const statement of statements) {
      expect(statement.resources).not.toContain('*');
      expect((statement.actions as string[]).every((a) => !a.endsWith(':*'))).toBe(true);
    }
    const attached = Object.values(resources(json, 'aws_iam_role_policy_attachment')).map(
      (a) => a.policy_arn,
    );
    expect(attached.sort()).toEqual([
      'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
      'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy',
    ]);
  });

  it("alarms on the guide's Redis thresholds, DocumentDB CPU and the ALB to an e-mail topic", () => {
    const alarms = Object.values(resources(json, 'aws_cloudwatch_metric_alarm'));
    const topic = ref(json, 'aws_sns_topic', 'monitoring/alarms', 'arn');
    const find = (metric: string, namespace: string) =>
      alarms.filter((a) => a.metric_name === metric && a.namespace === namespace);
    const nodes = config.redis.shards * (config.redis.replicasPerShard + 1);
    for (const alarm of find('CPUUtilization', 'AWS/ElastiCache')) {
      expect(alarm).toMatchObject({
        threshold: 75,
        period: 300,
        evaluation_periods: 2,
        comparison_operator: 'GreaterThanThreshold',
      });
    }
    expect(find('CPUUtilization', 'AWS/ElastiCache')).toHaveLength(nodes);
    expect(find('CurrConnections', 'AWS/ElastiCache')).toHaveLength(nodes);
    expect(find('CurrConnections', 'AWS/ElastiCache')[0]).toMatchObject({
      threshold: 1000,
      comparison_operator: 'GreaterThanThreshold',
    });
    expect(find('Evictions', 'AWS/ElastiCache')[0]).toMatchObject({
      threshold: 0,
      comparison_operator: 'GreaterThanThreshold',
    });
    expect(find('CPUUtilization', 'AWS/DocDB')).toHaveLength(1);
    expect(find('HTTPCode_ELB_5XX_Count', 'AWS/ApplicationELB')).toHaveLength(1);
    expect(find('HTTPCode_Target_5XX_Count', 'AWS/ApplicationELB')).toHaveLength(1);
    expect(find('UnHealthyHostCount', 'AWS/ApplicationELB')[0]).toMatchObject({ threshold: 0 });
    expect(alarms.every((a) => (a.alarm_actions as string[]).includes(topic))).toBe(true);
    expect(only(json, 'aws_sns_topic_subscription')).toMatchObject({
      protocol: 'email',
      endpoint: config.alarmEmail,
    });
    expect(Object.values(resources(json, 'aws_cloudwatch_log_group')).map((g) => g.name)).toContain(
      `/jobsphere-chat/${config.stackName}/gateway`,
    );
  });

  it('exports the endpoints and secret ARNs', () => {
    expect(Object.keys(json.output).sort()).toEqual(
      [
        'alarm_topic_arn',
        'alb_dns_name',
        'docdb_endpoint',
        'docdb_master_secret_arn',
        'docdb_reader_endpoint',
        'gateway_url',
        'jwt_secret_arn',
        'redis_auth_secret_arn',
        'redis_endpoint',
        'ssm_parameter_prefix',
      ].sort(),
    );
  });

  it('matches the normalized snapshot', () => {
    expect(normalize(json)).toMatchSnapshot();
  });
});

describe('environment differences', () => {
  it('dev: one Redis node, cluster mode off, no failover; one DocumentDB instance, no deletion protection', () => {
    const json = stacks.dev;
    const redis = only(json, 'aws_elasticache_replication_group');
    expect(redis).toMatchObject({
      cluster_mode: 'disabled',
      num_cache_clusters: 1,
      automatic_failover_enabled: false,
      multi_az_enabled: false,
    });
    expect(redis.num_node_groups).toBeUndefined();
    expect(only(json, 'aws_elasticache_parameter_group').parameter).toEqual([
      { name: 'cluster-enabled', value: 'no' },
    ]);
    expect(only(json, 'aws_docdb_cluster')).toMatchObject({
      deletion_protection: false,
      skip_final_snapshot: true,
    });
    expect(only(json, 'aws_lb')).toMatchObject({ enable_deletion_protection: false });
  });

  it('prod: cluster mode on with a replica per shard, Multi-AZ, automatic failover, protected data', () => {
    const json = stacks.prod;
    expect(only(json, 'aws_elasticache_replication_group')).toMatchObject({
      cluster_mode: 'enabled',
      num_node_groups: 1,
      replicas_per_node_group: 1,
      automatic_failover_enabled: true,
      multi_az_enabled: true,
      final_snapshot_identifier: 'jobsphere-chat-prod-redis-final',
    });
    expect(only(json, 'aws_elasticache_parameter_group').parameter).toEqual([
      { name: 'cluster-enabled', value: 'yes' },
    ]);
    expect(only(json, 'aws_docdb_cluster')).toMatchObject({
      deletion_protection: true,
      skip_final_snapshot: false,
      final_snapshot_identifier: 'jobsphere-chat-prod-docdb-final',
    });
    expect(Object.keys(resources(json, 'aws_docdb_cluster_instance'))).toHaveLength(2);
    expect(only(json, 'aws_lb')).toMatchObject({ enable_deletion_protection: true });
  });

  it('feeds REDIS_CLUSTER to the gateway from the cache topology', () => {
    const value = (json: TerraformJson) =>
      Object.values(resources(json, 'aws_ssm_parameter')).find((p) =>
        String(p.name).endsWith('/env/REDIS_CLUSTER'),
      )?.value;
    expect(value(stacks.dev)).toBe('false');
    expect(value(stacks.prod)).toBe('true');
  });
});
