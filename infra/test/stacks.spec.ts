import {
  DRAIN_MARGIN_SECONDS,
  environments,
  stopTimeoutSeconds,
  type EnvironmentConfig,
  type EnvironmentName,
} from '../src/config/environments.js';
import { APP_USERNAMES } from '../src/constructs/docdb-app-user.js';
import { INTERFACE_ENDPOINT_SERVICES } from '../src/constructs/network.js';
import { REFRESH_FAILURE_EVENTS } from '../src/constructs/monitoring.js';
import {
  dataSources,
  normalize,
  only,
  ref,
  resources,
  synth,
  synthAll,
  testInputs,
  userDataOf,
  type Attributes,
  type TerraformJson,
} from './support/synth.js';

const stacks = synthAll();
const names: EnvironmentName[] = ['dev', 'prod'];

const statementsOf = (json: TerraformJson, path: string): Record<string, Attributes> => {
  const document = dataSources(json, 'aws_iam_policy_document')[path];
  if (!document) throw new Error(`no policy document at ${path}`);
  const statements = document.statement as Attributes[];
  return Object.fromEntries(statements.map((s) => [String(s.sid), s]));
};
const ssmValue = (json: TerraformJson, name: string) =>
  Object.values(resources(json, 'aws_ssm_parameter')).find((p) =>
    String(p.name).endsWith(`/env/${name}`),
  )?.value;

describe.each(names)('%s stack', (name) => {
  const json: TerraformJson = stacks[name];
  const config = environments[name];
  const inputs = testInputs[name];
  const sg = (path: string) => ref(json, 'aws_security_group', `security/${path}`);
  const kmsKey = ref(json, 'aws_kms_key', 'keys/data-key', 'arn');

  it('keeps its state in S3 with a lock file, encrypted with the state key', () => {
    expect(json.terraform.backend).toEqual({
      s3: {
        bucket: inputs.stateBucket,
        key: `jobsphere-chat/${config.stackName}.tfstate`,
        region: config.region,
        encrypt: true,
        kms_key_id: 'alias/jobsphere-chat-tfstate',
        use_lockfile: true,
      },
    });
    expect(json.terraform.required_version).toBe('>= 1.10.0');
  });

  it('spans two AZs with public and private subnets, NAT egress and encrypted flow logs', () => {
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

  it('encrypts every log group and the alarm topic with the stack key', () => {
    const groups = Object.values(resources(json, 'aws_cloudwatch_log_group'));
    expect(groups.length).toBeGreaterThanOrEqual(8);
    for (const group of groups) {
      expect(group).toMatchObject({ kms_key_id: kmsKey });
      expect(Number(group.retention_in_days)).toBe(config.logRetentionDays);
    }
    expect(only(json, 'aws_sns_topic')).toMatchObject({ kms_master_key_id: kmsKey });
    // ...which only works because the key policy lets these services use it.
    const policy = statementsOf(json, 'keys/data-key-policy');
    expect(policy.CloudWatchLogsOfThisAccount).toMatchObject({
      principals: [{ type: 'Service', identifiers: [`logs.${config.region}.amazonaws.com`] }],
    });
    expect(policy.AlarmsAndEventsPublishToTheTopic).toMatchObject({
      principals: [
        { type: 'Service', identifiers: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
      ],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    });
    expect(only(json, 'aws_kms_key')).toMatchObject({ enable_key_rotation: true });
  });

  it("empties the VPC's default security group (nothing uses it, nothing may talk through it)", () => {
    const fallback = only(json, 'aws_default_security_group');
    expect(fallback.vpc_id).toBe(ref(json, 'aws_vpc', 'network/vpc'));
    expect(fallback.ingress).toBeUndefined();
    expect(fallback.egress).toBeUndefined();
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
    const expected = [
      { group: sg('alb'), port: 443, to: 443, source: '0.0.0.0/0' },
      { group: sg('alb'), port: 80, to: 80, source: '0.0.0.0/0' },
      { group: sg('app'), port: 4000, to: 4000, source: sg('alb') },
      { group: sg('redis'), port: 6379, to: 6379, source: sg('app') },
      { group: sg('docdb'), port: 27017, to: 27017, source: sg('app') },
      { group: sg('docdb'), port: 27017, to: 27017, source: sg('rotation') },
      ...(config.privateLinkEndpoints
        ? [
            { group: sg('endpoints'), port: 443, to: 443, source: sg('app') },
            { group: sg('endpoints'), port: 443, to: 443, source: sg('rotation') },
          ]
        : []),
    ];
    expect(ingress).toEqual(expect.arrayContaining(expected));
    expect(ingress).toHaveLength(expected.length);
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
    const expected = [
      { group: sg('alb'), port: 4000, destination: sg('app') },
      { group: sg('app'), port: 443, destination: '0.0.0.0/0' },
      { group: sg('app'), port: 6379, destination: sg('redis') },
      { group: sg('app'), port: 27017, destination: sg('docdb') },
      { group: sg('rotation'), port: 27017, destination: sg('docdb') },
      { group: sg('rotation'), port: 443, destination: '0.0.0.0/0' },
    ];
    expect(egress).toEqual(expect.arrayContaining(expected));
    expect(egress).toHaveLength(expected.length);
  });

  it('keeps the AWS API calls of the instances inside the VPC when PrivateLink is on', () => {
    const endpoints = Object.values(resources(json, 'aws_vpc_endpoint'));
    const interfaces = endpoints.filter((e) => e.vpc_endpoint_type === 'Interface');
    if (!config.privateLinkEndpoints) {
      expect(interfaces).toEqual([]);
      return;
    }
    expect(interfaces.map((e) => e.service_name).sort()).toEqual(
      INTERFACE_ENDPOINT_SERVICES.map((s) => `com.amazonaws.${config.region}.${s}`).sort(),
    );
    for (const endpoint of interfaces) {
      expect(endpoint).toMatchObject({
        private_dns_enabled: true,
        security_group_ids: [sg('endpoints')],
        subnet_ids: [
          ref(json, 'aws_subnet', 'network/private-0'),
          ref(json, 'aws_subnet', 'network/private-1'),
        ],
      });
    }
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
      kms_key_id: kmsKey,
      auth_token: token,
      snapshot_retention_limit: 7,
      snapshot_window: '03:00-05:00',
      maintenance_window: 'sun:05:30-sun:06:30',
      security_group_ids: [sg('redis')],
    });
    const logTypes = (redis.log_delivery_configuration as Attributes[]).map((l) => l.log_type);
    expect(logTypes).toEqual(['slow-log', 'engine-log']);
    expect(only(json, 'aws_elasticache_parameter_group')).toMatchObject({ family: 'redis7' });
  });

  it('leaves the Redis AUTH token to the rotation script after the first apply', () => {
    expect(only(json, 'aws_elasticache_replication_group').lifecycle).toEqual({
      ignore_changes: ['auth_token', 'auth_token_update_strategy'],
    });
    expect(
      resources(json, 'aws_secretsmanager_secret_version')['cache/auth-secret-value'],
    ).toMatchObject({
      secret_string: ref(json, 'random_password', 'cache/auth-token', 'result'),
      lifecycle: { ignore_changes: ['secret_string'] },
    });
  });

  it('uses DocumentDB with TLS, encryption, backups, pre-created log groups and windows', () => {
    const cluster = only(json, 'aws_docdb_cluster');
    const clusterId = `${config.stackName}-docdb`;
    expect(cluster).toMatchObject({
      cluster_identifier: clusterId,
      storage_encrypted: true,
      kms_key_id: kmsKey,
      manage_master_user_password: true,
      enabled_cloudwatch_logs_exports: ['audit', 'profiler'],
      vpc_security_group_ids: [sg('docdb')],
      backup_retention_period: config.database.backupRetentionDays,
      preferred_backup_window: '02:00-03:00',
      preferred_maintenance_window: 'sun:06:30-sun:07:00',
    });
    expect(cluster.master_password).toBeUndefined();
    expect(cluster.snapshot_identifier).toBeUndefined();
    expect(only(json, 'aws_docdb_cluster_parameter_group').parameter).toContainEqual(
      expect.objectContaining({ name: 'tls', value: 'enabled' }),
    );
    // DocumentDB would create these itself, without retention or KMS.
    const groups = resources(json, 'aws_cloudwatch_log_group');
    for (const log of ['audit', 'profiler']) {
      expect(groups[`database/${log}-logs`]).toMatchObject({
        name: `/aws/docdb/${clusterId}/${log}`,
      });
    }
    expect(cluster.depends_on).toEqual([
      expect.stringContaining('aws_cloudwatch_log_group.database_audit-logs'),
      expect.stringContaining('aws_cloudwatch_log_group.database_profiler-logs'),
    ]);
    const instances = Object.values(resources(json, 'aws_docdb_cluster_instance'));
    expect(instances).toHaveLength(config.database.instances);
    const windows = instances.map((i) => i.preferred_maintenance_window);
    expect(new Set(windows).size).toBe(windows.length);
    expect(windows[0]).toBe('sun:07:00-sun:07:30');
  });

  it('gives the gateway its own DocumentDB user, rotated with alternating users', () => {
    const secret = resources(json, 'aws_secretsmanager_secret')['docdb-app-user/secret']!;
    expect(secret).toMatchObject({ name: `${config.stackName}/docdb-app`, kms_key_id: kmsKey });
    const initial = resources(json, 'aws_secretsmanager_secret_version')['docdb-app-user/initial']!;
    // The first version names the user only; the first rotation, at deploy, sets the password.
    expect(JSON.parse(String(initial.secret_string))).toEqual({
      engine: 'mongo',
      dbname: 'jobsphere',
      username: APP_USERNAMES[0],
      password: '',
    });
    const rotation = only(json, 'aws_secretsmanager_secret_rotation');
    expect(rotation).toMatchObject({
      secret_id: ref(json, 'aws_secretsmanager_secret', 'docdb-app-user/secret'),
      rotation_lambda_arn: ref(json, 'aws_lambda_function', 'docdb-app-user/function', 'arn'),
      rotate_immediately: true,
      rotation_rules: { automatically_after_days: config.database.appUserRotationDays },
    });
    expect(rotation.depends_on).toEqual(
      expect.arrayContaining([
        expect.stringContaining('aws_docdb_cluster_instance.database_instance-1'),
      ]),
    );
    const fn = only(json, 'aws_lambda_function');
    expect(fn).toMatchObject({
      runtime: 'nodejs22.x',
      handler: 'dist/handler.handler',
      vpc_config: { security_group_ids: [sg('rotation')] },
      environment: {
        variables: expect.objectContaining({
          APP_USERNAMES: APP_USERNAMES.join(','),
          APP_USER_ROLE: 'readWrite',
          DOCDB_DATABASE: 'jobsphere',
          DOCDB_TLS: 'true',
          DOCDB_MASTER_SECRET_ARN: expect.stringContaining('master_user_secret[0].secret_arn'),
        }),
      },
    });
    expect(only(json, 'aws_lambda_permission')).toMatchObject({
      principal: 'secretsmanager.amazonaws.com',
      source_arn: ref(json, 'aws_secretsmanager_secret', 'docdb-app-user/secret', 'arn'),
    });
    const access = statementsOf(json, 'docdb-app-user/access');
    expect(access.ReadTheMasterSecret).toMatchObject({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [expect.stringContaining('master_user_secret[0].secret_arn')],
    });
  });

  it('serves HTTPS with a DNS-validated certificate in the given zone and redirects HTTP', () => {
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
    // Looked up by id, not by name: plan works in any account that owns the zone.
    expect(dataSources(json, 'aws_route53_zone')['load-balancer/zone']).toMatchObject({
      zone_id: inputs.hostedZoneId,
    });
    const certificate = only(json, 'aws_acm_certificate');
    expect(certificate).toMatchObject({ domain_name: inputs.domainName, validation_method: 'DNS' });
    const [precondition] = (certificate.lifecycle as { precondition: Attributes[] }).precondition;
    expect(precondition!.condition).toContain(`endswith("${inputs.domainName}"`);
    const alb = only(json, 'aws_lb');
    expect(alb).toMatchObject({ internal: false, drop_invalid_header_fields: true });
    expect(Number(alb.idle_timeout)).toBeGreaterThan(
      (config.socket.pingIntervalMs + config.socket.pingTimeoutMs) / 1000,
    );
  });

  it('answers /metrics at the ALB with 404, before any request reaches an instance', () => {
    const rule = only(json, 'aws_lb_listener_rule');
    expect(rule).toMatchObject({
      listener_arn: ref(json, 'aws_lb_listener', 'load-balancer/https', 'arn'),
      priority: 1,
      condition: [{ path_pattern: { values: ['/metrics', '/metrics/*'] } }],
      action: [
        {
          type: 'fixed-response',
          fixed_response: {
            status_code: '404',
            content_type: 'text/plain',
            message_body: 'Not Found',
          },
        },
      ],
    });
    // And on the instances the metrics listener is loopback-only.
    expect(ssmValue(json, 'METRICS_PORT')).toBe('9464');
    expect(ssmValue(json, 'METRICS_HOST')).toBe('127.0.0.1');
  });

  it('writes ALB access logs to a private bucket the ELB log account may write to', () => {
    const alb = only(json, 'aws_lb');
    const bucket = ref(json, 'aws_s3_bucket', 'load-balancer/access-logs', 'bucket');
    expect(alb.access_logs).toEqual({ bucket, prefix: 'alb', enabled: true });
    const policy = statementsOf(json, 'load-balancer/access-logs-policy-document');
    expect(policy.AlbWritesAccessLogs).toMatchObject({
      principals: [
        { type: 'AWS', identifiers: [expect.stringContaining('aws_elb_service_account')] },
      ],
      actions: ['s3:PutObject'],
    });
    const lifecycle = resources(json, 'aws_s3_bucket_lifecycle_configuration')[
      'load-balancer/access-logs-lifecycle'
    ]!;
    expect(lifecycle.rule).toEqual([
      expect.objectContaining({
        expiration: [{ days: config.loadBalancer.accessLogRetentionDays }],
      }),
    ]);
  });

  it('health-checks GET /health and deregisters only after the watcher and the drain', () => {
    const group = only(json, 'aws_lb_target_group');
    expect(group).toMatchObject({
      port: 4000,
      protocol: 'HTTP',
      health_check: expect.objectContaining({ path: '/health', matcher: '200', protocol: 'HTTP' }),
      stickiness: expect.objectContaining({ enabled: false }),
    });
    const delay = Number(group.deregistration_delay);
    expect(delay).toBeGreaterThanOrEqual(
      config.lifecycle.pollSeconds +
        stopTimeoutSeconds(config.socket.drainTimeoutMs) +
        DRAIN_MARGIN_SECONDS,
    );
    expect(delay).toBeLessThanOrEqual(120);
  });

  it('drains every terminating instance through a lifecycle hook and its watcher', () => {
    const asg = only(json, 'aws_autoscaling_group');
    expect(asg.initial_lifecycle_hook).toEqual([
      {
        name: 'drain-before-terminate',
        lifecycle_transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeat_timeout: config.lifecycle.heartbeatTimeoutSeconds,
        default_result: 'CONTINUE',
      },
    ]);
    const script = userDataOf(json);
    expect(script).toContain('Environment=LIFECYCLE_HOOK_NAME=drain-before-terminate');
    expect(script).toContain(`Environment=ASG_NAME=${config.stackName}-gateway`);
    expect(script).toContain(
      'Environment=LIFECYCLE_STOP_COMMAND=systemctl stop jobsphere-chat.service',
    );
    expect(script).toContain('autoscaling/target-lifecycle-state');
    expect(script).toContain(
      'systemctl enable --now jobsphere-chat.service jobsphere-chat-lifecycle.service',
    );
    // The watcher may complete the hook of its own group only.
    const access = statementsOf(json, 'compute/instance-access');
    expect(access.DrainAndReportOwnGroup).toMatchObject({
      actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:SetInstanceHealth'],
      resources: [
        expect.stringMatching(
          new RegExp(`:autoScalingGroup:\\*:autoScalingGroupName/${config.stackName}-gateway$`),
        ),
      ],
    });
  });

  it('rolls deploys at full capacity, rolls back on alarms and reports failed refreshes', () => {
    const asg = only(json, 'aws_autoscaling_group');
    const alarmNames = Object.values(resources(json, 'aws_cloudwatch_metric_alarm')).map(
      (a) => a.alarm_name,
    );
    expect(asg.instance_refresh).toEqual({
      strategy: 'Rolling',
      preferences: {
        min_healthy_percentage: 100,
        max_healthy_percentage: 200,
        instance_warmup: '300',
        skip_matching: true,
        auto_rollback: true,
        alarm_specification: {
          alarms: [`${config.stackName}-alb-unhealthy-hosts`, `${config.stackName}-alb-target-5xx`],
        },
        scale_in_protected_instances: 'Refresh',
        standby_instances: 'Terminate',
      },
    });
    for (const alarm of (
      asg.instance_refresh as { preferences: { alarm_specification: { alarms: string[] } } }
    ).preferences.alarm_specification.alarms)
      expect(alarmNames).toContain(alarm);
    expect(asg.instance_maintenance_policy).toEqual({
      min_healthy_percentage: 100,
      max_healthy_percentage: 200,
    });
    const rule = only(json, 'aws_cloudwatch_event_rule');
    expect(JSON.parse(String(rule.event_pattern))).toEqual({
      source: ['aws.autoscaling'],
      'detail-type': [...REFRESH_FAILURE_EVENTS],
      detail: { AutoScalingGroupName: [`${config.stackName}-gateway`] },
    });
    expect(only(json, 'aws_cloudwatch_event_target')).toMatchObject({
      arn: ref(json, 'aws_sns_topic', 'monitoring/alarms', 'arn'),
    });
    expect(
      statementsOf(json, 'monitoring/alarms-topic-policy').AlarmsAndEventsPublish,
    ).toMatchObject({
      principals: [
        { type: 'Service', identifiers: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
      ],
      actions: ['sns:Publish'],
    });
  });

  it('replaces only instances that fail their own check, and waits for its dependencies', () => {
    const asg = only(json, 'aws_autoscaling_group');
    expect(asg.health_check_type).toBe('ELB');
    expect(Number(asg.min_size)).toBeGreaterThanOrEqual(2);
    expect(asg.wait_for_elb_capacity).toBe(config.compute.minInstances);
    expect(asg.vpc_zone_identifier).toEqual([
      ref(json, 'aws_subnet', 'network/private-0'),
      ref(json, 'aws_subnet', 'network/private-1'),
    ]);
    expect(asg.target_group_arns).toEqual([
      ref(json, 'aws_lb_target_group', 'load-balancer/gateway', 'arn'),
    ]);
    const dependsOn = asg.depends_on as string[];
    for (const dependency of [
      'aws_docdb_cluster_instance.database_instance-1',
      'aws_elasticache_replication_group.cache_redis',
      'aws_lb_listener.load-balancer_https',
      'aws_secretsmanager_secret_rotation.docdb-app-user_rotation',
      'aws_s3_object.compute_gateway-bundle-object',
    ]) {
      expect(dependsOn.some((d) => d.startsWith(dependency))).toBe(true);
    }
  });

  it('launches the pinned AMI with IMDSv2, encrypted tagged disks and no key pair', () => {
    const template = only(json, 'aws_launch_template');
    expect(template.image_id).toBe(inputs.amiId);
    expect(json.data.aws_ssm_parameter).toBeUndefined();
    expect(template.key_name).toBeUndefined();
    expect(template.metadata_options).toMatchObject({ http_tokens: 'required' });
    expect(template.block_device_mappings).toEqual([
      expect.objectContaining({ ebs: expect.objectContaining({ encrypted: 'true' }) }),
    ]);
    const tags = {
      Project: 'jobsphere-chat',
      Environment: config.name,
      ManagedBy: 'cdktf',
      Name: `${config.stackName}-gateway`,
    };
    expect(template.tag_specifications).toEqual([
      { resource_type: 'instance', tags },
      { resource_type: 'volume', tags },
    ]);
    const script = userDataOf(json);
    expect(script).toContain(
      `ExecStart=/usr/bin/node-${config.compute.nodeMajor} --enable-source-maps dist/main.js`,
    );
  });

  it('keeps old bundles downloadable for rollbacks in a versioned bucket', () => {
    expect(
      resources(json, 'aws_s3_bucket_versioning')['compute/artifacts-versioning'],
    ).toMatchObject({
      versioning_configuration: { status: 'Enabled' },
    });
    const lifecycle = resources(json, 'aws_s3_bucket_lifecycle_configuration')[
      'compute/artifacts-lifecycle'
    ]!;
    expect(lifecycle.rule).toEqual([
      expect.objectContaining({
        filter: [{ prefix: 'gateway/' }],
        noncurrent_version_expiration: [{ noncurrent_days: 90 }],
      }),
      {
        id: 'abort-incomplete-uploads',
        status: 'Enabled',
        filter: [{ prefix: '' }],
        abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
      },
    ]);
    const access = statementsOf(json, 'compute/instance-access');
    expect(access.ReadGatewayBundles!.actions).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(access.FindOlderBundleVersions!.actions).toEqual(['s3:ListBucketVersions']);
    expect(userDataOf(json)).toContain('--version-id "$version"');
  });

  it('keeps attachments in a private, KMS-encrypted, versioned, TLS-only bucket the client origin can reach', () => {
    const of = (type: string) =>
      resources(json, type)[
        'attachments/' +
          {
            aws_s3_bucket_public_access_block: 'public-access',
            aws_s3_bucket_ownership_controls: 'ownership',
            aws_s3_bucket_server_side_encryption_configuration: 'encryption',
            aws_s3_bucket_versioning: 'versioning',
            aws_s3_bucket_lifecycle_configuration: 'lifecycle',
            aws_s3_bucket_cors_configuration: 'cors',
          }[type]!
      ]!;
    expect(of('aws_s3_bucket_public_access_block')).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(of('aws_s3_bucket_ownership_controls')).toMatchObject({
      rule: { object_ownership: 'BucketOwnerEnforced' },
    });
    expect(of('aws_s3_bucket_server_side_encryption_configuration').rule).toEqual([
      {
        apply_server_side_encryption_by_default: {
          sse_algorithm: 'aws:kms',
          kms_master_key_id: kmsKey,
        },
        bucket_key_enabled: true,
      },
    ]);
    expect(of('aws_s3_bucket_versioning')).toMatchObject({
      versioning_configuration: { status: 'Enabled' },
    });
    expect(of('aws_s3_bucket_lifecycle_configuration').rule).toEqual([
      expect.objectContaining({
        id: 'expire-pending-uploads',
        filter: [{ tag: [{ key: 'attachment-state', value: 'pending' }] }],
        expiration: [{ days: 1 }],
      }),
      expect.objectContaining({
        id: 'expire-old-versions',
        noncurrent_version_expiration: [{ noncurrent_days: 30 }],
      }),
    ]);
    expect(of('aws_s3_bucket_cors_configuration').cors_rule).toEqual([
      expect.objectContaining({
        allowed_origins: [inputs.clientUrl],
        allowed_methods: ['POST', 'GET'],
      }),
    ]);
    expect(statementsOf(json, 'attachments/tls-only').DenyInsecureTransport).toMatchObject({
      effect: 'Deny',
      condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
    });
    expect(ssmValue(json, 'ATTACHMENTS_BUCKET')).toBe(
      ref(json, 'aws_s3_bucket', 'attachments/bucket', 'bucket'),
    );
  });

  it("lets instances use the attachments bucket's objects and the key through S3, nothing more", () => {
    const bucketArn = ref(json, 'aws_s3_bucket', 'attachments/bucket', 'arn');
    const access = statementsOf(json, 'attachments/gateway-access');
    expect(access.UseAttachmentObjects).toMatchObject({
      actions: ['s3:PutObject', 's3:PutObjectTagging', 's3:GetObject', 's3:DeleteObject'],
      resources: [`${bucketArn}/*`],
    });
    expect(access.UseTheKeyThroughS3).toMatchObject({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [kmsKey],
      condition: [{ variable: 'kms:ViaService', values: [`s3.${config.region}.amazonaws.com`] }],
    });
    const policy = resources(json, 'aws_iam_role_policy')['attachments/gateway-access-policy']!;
    expect(String(policy.role)).toContain('compute_instance-role');
  });

  it('lets instances read only their own secrets, parameters and bundles, never the master user', () => {
    const statements = Object.values(statementsOf(json, 'compute/instance-access'));
    const bySid = statementsOf(json, 'compute/instance-access');
    expect(bySid.ReadOwnSecrets!.resources).toEqual([
      ref(json, 'aws_secretsmanager_secret', 'cache/auth-secret', 'arn'),
      ref(json, 'aws_secretsmanager_secret', 'docdb-app-user/secret', 'arn'),
      inputs.jwtSecretArn,
      ref(json, 'aws_secretsmanager_secret', 'platform-secrets/service-token-secret', 'arn'),
    ]);
    for (const statement of statements) {
      expect(statement.resources).not.toContain('*');
      expect((statement.actions as string[]).every((a) => !a.endsWith(':*'))).toBe(true);
      expect(JSON.stringify(statement.resources)).not.toContain('master_user_secret');
    }
    const attached = Object.values(resources(json, 'aws_iam_role_policy_attachment'))
      .filter((a) => String(a.role).includes('compute_instance-role'))
      .map((a) => a.policy_arn);
    expect(attached.sort()).toEqual([
      'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
      'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy',
    ]);
  });

  it('configures the gateway with credential-free settings: secrets are read by the gateway', () => {
    const uri = String(ssmValue(json, 'MONGODB_URI'));
    expect(uri).toMatch(/^mongodb:\/\/\$\{aws_docdb_cluster\.[^}]+\.endpoint\}:27017\/jobsphere\?/);
    expect(uri).toContain('readPreference=primary');
    expect(uri).toContain('authSource=admin'); // DocumentDB keeps every user in admin
    expect(uri).not.toContain('secondaryPreferred');
    expect(uri).not.toContain('@');
    expect(ssmValue(json, 'MONGODB_SECRET_ID')).toBe(
      ref(json, 'aws_secretsmanager_secret', 'docdb-app-user/secret', 'arn'),
    );
    expect(ssmValue(json, 'REDIS_AUTH_SECRET_ID')).toBe(
      ref(json, 'aws_secretsmanager_secret', 'cache/auth-secret', 'arn'),
    );
    expect(ssmValue(json, 'SHUTDOWN_DRAIN_MS')).toBe(String(config.socket.drainTimeoutMs));
    expect(ssmValue(json, 'REDIS_PASSWORD')).toBeUndefined();
    const script = userDataOf(json);
    expect(script).not.toContain('REDIS_PASSWORD');
    expect(script).not.toContain('docdb_password');
  });

  it("alarms on the guide's Redis thresholds and the review's list, with their dimensions", () => {
    const alarms = Object.values(resources(json, 'aws_cloudwatch_metric_alarm'));
    const topic = ref(json, 'aws_sns_topic', 'monitoring/alarms', 'arn');
    const find = (metric: string, namespace: string) =>
      alarms.filter((a) => a.metric_name === metric && a.namespace === namespace);
    const nodes = config.redis.shards * (config.redis.replicasPerShard + 1);
    for (const metric of [
      'CPUUtilization',
      'EngineCPUUtilization',
      'DatabaseMemoryUsagePercentage',
      'CurrConnections',
      'Evictions',
    ]) {
      const perNode = find(metric, 'AWS/ElastiCache');
      expect(perNode).toHaveLength(nodes);
      for (const alarm of perNode)
        expect(Object.keys(alarm.dimensions as Attributes)).toEqual(['CacheClusterId']);
    }
    for (const alarm of find('CPUUtilization', 'AWS/ElastiCache')) {
      expect(alarm).toMatchObject({
        threshold: 75,
        period: 300,
        evaluation_periods: 2,
        comparison_operator: 'GreaterThanThreshold',
      });
    }
    expect(find('CurrConnections', 'AWS/ElastiCache')[0]).toMatchObject({ threshold: 1000 });
    expect(find('Evictions', 'AWS/ElastiCache')[0]).toMatchObject({ threshold: 0 });
    expect(find('DatabaseMemoryUsagePercentage', 'AWS/ElastiCache')[0]).toMatchObject({
      threshold: 80,
    });
    expect(find('ReplicationLag', 'AWS/ElastiCache')).toHaveLength(
      config.redis.replicasPerShard > 0 ? nodes : 0,
    );

    for (const [metric, comparison] of [
      ['CPUUtilization', 'GreaterThanThreshold'],
      ['FreeableMemory', 'LessThanThreshold'],
      ['DatabaseConnections', 'GreaterThanThreshold'],
    ] as const) {
      const perInstance = find(metric, 'AWS/DocDB');
      expect(
        perInstance.map((a) => (a.dimensions as Attributes).DBInstanceIdentifier).sort(),
      ).toEqual(
        Array.from(
          { length: config.database.instances },
          (_, i) => `${config.stackName}-docdb-${i + 1}`,
        ),
      );
      for (const alarm of perInstance) expect(alarm.comparison_operator).toBe(comparison);
    }

    const targetDimensions = {
      LoadBalancer: ref(json, 'aws_lb', 'load-balancer/alb', 'arn_suffix'),
      TargetGroup: ref(json, 'aws_lb_target_group', 'load-balancer/gateway', 'arn_suffix'),
    };
    expect(find('HTTPCode_ELB_5XX_Count', 'AWS/ApplicationELB')).toHaveLength(1);
    expect(find('HTTPCode_Target_5XX_Count', 'AWS/ApplicationELB')[0]).toMatchObject({
      dimensions: targetDimensions,
    });
    expect(find('UnHealthyHostCount', 'AWS/ApplicationELB')[0]).toMatchObject({
      threshold: 0,
      dimensions: targetDimensions,
    });
    expect(find('HealthyHostCount', 'AWS/ApplicationELB')[0]).toMatchObject({
      threshold: config.compute.minInstances,
      comparison_operator: 'LessThanThreshold',
      dimensions: targetDimensions,
    });
    expect(find('GatewayErrors', 'JobSphereChat/Gateway')).toHaveLength(1);
    expect(find('GatewayRedisErrors', 'JobSphereChat/Gateway')).toHaveLength(1);
    const filters = Object.values(resources(json, 'aws_cloudwatch_log_metric_filter'));
    expect(filters.map((f) => f.pattern)).toEqual([
      '{ ($.level = "error") || ($.level = "fatal") }',
      '{ ($.level = "error") && ($.context = "Redis") }',
    ]);
    expect(alarms.every((a) => (a.alarm_actions as string[]).includes(topic))).toBe(true);
    // The count the cost table in infra/README.md prices.
    expect(alarms).toHaveLength(name === 'dev' ? 14 : 24);
    expect(only(json, 'aws_sns_topic_subscription')).toMatchObject({
      protocol: 'email',
      endpoint: inputs.alarmEmail,
    });
  });

  it('exports what the runbook uses', () => {
    expect(Object.keys(json.output).sort()).toEqual(
      [
        'alarm_topic_arn',
        'alb_dns_name',
        'app_log_group',
        'artifacts_bucket',
        'autoscaling_group_name',
        'docdb_app_secret_arn',
        'docdb_cluster_id',
        'docdb_endpoint',
        'docdb_master_secret_arn',
        'docdb_reader_endpoint',
        'docdb_rotation_function',
        'gateway_url',
        'redis_auth_secret_arn',
        'redis_endpoint',
        'redis_replication_group_id',
        'service_token_secret_arn',
        'ssm_parameter_prefix',
      ].sort(),
    );
  });

  it('matches the normalized snapshot', () => {
    expect(normalize(json)).toMatchSnapshot();
  });
});

describe('environment differences', () => {
  it('dev: one Redis node, cluster mode off, no failover; one DocumentDB instance; no WAF, no PrivateLink', () => {
    const json = stacks.dev;
    const redis = only(json, 'aws_elasticache_replication_group');
    expect(redis).toMatchObject({
      cluster_mode: 'disabled',
      num_cache_clusters: 1,
      automatic_failover_enabled: false,
      multi_az_enabled: false,
    });
    expect(redis.num_node_groups).toBeUndefined();
    expect(only(json, 'aws_docdb_cluster')).toMatchObject({
      deletion_protection: false,
      skip_final_snapshot: true,
    });
    expect(only(json, 'aws_lb')).toMatchObject({ enable_deletion_protection: false });
    expect(json.resource.aws_wafv2_web_acl).toBeUndefined();
  });

  it('prod: cluster mode with a replica per shard, Multi-AZ, failover, protected data, a WAF rate limit', () => {
    const json = stacks.prod;
    expect(only(json, 'aws_elasticache_replication_group')).toMatchObject({
      cluster_mode: 'enabled',
      num_node_groups: 1,
      replicas_per_node_group: 1,
      automatic_failover_enabled: true,
      multi_az_enabled: true,
      final_snapshot_identifier: 'jobsphere-chat-prod-redis-final',
    });
    expect(only(json, 'aws_docdb_cluster')).toMatchObject({
      deletion_protection: true,
      skip_final_snapshot: false,
      final_snapshot_identifier: 'jobsphere-chat-prod-docdb-final',
    });
    expect(only(json, 'aws_lb')).toMatchObject({ enable_deletion_protection: true });
    const acl = only(json, 'aws_wafv2_web_acl');
    expect(acl).toMatchObject({
      scope: 'REGIONAL',
      default_action: { allow: {} },
      rule: [
        expect.objectContaining({
          action: { block: {} },
          statement: {
            rate_based_statement: {
              limit: environments.prod.loadBalancer.wafRequestsPer5MinPerIp,
              aggregate_key_type: 'IP',
              evaluation_window_sec: 300,
            },
          },
        }),
        expect.objectContaining({
          override_action: { none: {} },
          statement: {
            managed_rule_group_statement: {
              vendor_name: 'AWS',
              name: 'AWSManagedRulesKnownBadInputsRuleSet',
            },
          },
        }),
      ],
    });
    expect(only(json, 'aws_wafv2_web_acl_association')).toMatchObject({
      resource_arn: ref(json, 'aws_lb', 'load-balancer/alb', 'arn'),
    });
    // Its request log never holds a credential.
    expect(only(json, 'aws_wafv2_web_acl_logging_configuration')).toMatchObject({
      resource_arn: ref(json, 'aws_wafv2_web_acl', 'load-balancer/waf', 'arn'),
      log_destination_configs: [
        ref(json, 'aws_cloudwatch_log_group', 'load-balancer/waf-logs', 'arn'),
      ],
      redacted_fields: [
        { single_header: { name: 'authorization' } },
        { single_header: { name: 'cookie' } },
      ],
    });
    expect(resources(json, 'aws_cloudwatch_log_group')['load-balancer/waf-logs']).toMatchObject({
      name: 'aws-waf-logs-jobsphere-chat-prod',
      kms_key_id: ref(json, 'aws_kms_key', 'keys/data-key', 'arn'),
    });
  });

  it('feeds REDIS_CLUSTER to the gateway from the cache topology', () => {
    expect(ssmValue(stacks.dev, 'REDIS_CLUSTER')).toBe('false');
    expect(ssmValue(stacks.prod, 'REDIS_CLUSTER')).toBe('true');
  });
});

describe('options', () => {
  const variant = (changes: Partial<EnvironmentConfig>) =>
    synth({ dev: { ...environments.dev, ...changes } }).dev!;

  it('runs on Graviton (t4g) with the same bundle when asked', () => {
    const json = variant({
      compute: { ...environments.dev.compute, instanceType: 't4g.small', architecture: 'arm64' },
    });
    expect(only(json, 'aws_launch_template')).toMatchObject({ instance_type: 't4g.small' });
  });

  it('restores DocumentDB from a snapshot given as an input', () => {
    const json = synth(
      { dev: environments.dev },
      { dev: { ...testInputs.dev, docdbSnapshotIdentifier: 'jobsphere-chat-dev-before-upgrade' } },
    ).dev!;
    expect(only(json, 'aws_docdb_cluster')).toMatchObject({
      snapshot_identifier: 'jobsphere-chat-dev-before-upgrade',
    });
  });

  it('puts a WAF in front of dev only when configured', () => {
    const json = variant({
      loadBalancer: { ...environments.dev.loadBalancer, wafRequestsPer5MinPerIp: 500 },
    });
    expect(only(json, 'aws_wafv2_web_acl').rule).toEqual([
      expect.objectContaining({
        statement: expect.objectContaining({
          rate_based_statement: expect.objectContaining({ limit: 500 }),
        }),
      }),
      expect.objectContaining({ name: 'known-bad-inputs' }),
    ]);
  });
});
