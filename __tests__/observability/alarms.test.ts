import { TerraformStack, Testing } from "cdktf";
import { AlarmTopic } from "../../lib/observability/alarm-topic";
import { Alarms, AlarmSettingsSchema } from "../../lib/observability/alarms";
import { environments, prod } from "../../environments/environments";
import { resourcePrefix } from "../../lib/settings/environment/settings";
import { examples } from "../support/variants";
import { Cluster, ClusterSettingsSchema } from "../../lib/compute/cluster";
import { Service, ServiceSettingsSchema } from "../../lib/compute/service";
import { TaskDefinition, TaskSettingsSchema } from "../../lib/compute/task-definition";
import { Network, NetworkSettingsSchema } from "../../lib/network/network";
import { Registry, RegistrySettingsSchema } from "../../lib/registry/registry";
import { address, deployPermissions, env, only, ref, resources, synth, type TfJson } from "../support/helpers";

const list = (v: unknown): string[] => (v === undefined ? [] : typeof v === "string" ? [v] : (v as string[]));
import { resolved, testApp, testKey, testLoadBalancer } from "../support/bare-stack";

/** Alarms, the encrypted topic they report to, the service-event rule and the dashboard. */
const alarmNames = (tf: TfJson) =>
  resources(tf, "aws_cloudwatch_metric_alarm")
    .map((a) => a.alarm_name)
    .sort();
const topicArn = (tf: TfJson) => ref(tf, "aws_sns_topic", only(tf, "aws_sns_topic"), "arn");
/** An alarm of the `env()` stack (prefix rest-api-test) by what it watches. */
const byName = (tf: TfJson, what: string) => resources(tf, "aws_cloudwatch_metric_alarm").find((a) => a.alarm_name === `rest-api-test-${what}`)!;
const keyPolicy = (tf: TfJson) => JSON.parse(resources(tf, "aws_kms_key").find((k) => String(k.description).endsWith(" environment key"))!.policy);

describe.each([...environments, ...examples].map((s) => [s.name, s] as const))("%s", (_name, settings) => {
  const tf = synth(settings);

  test("every alarm reports to the alarm topic when it fires and when it recovers", () => {
    // A queue worker's scale-from-zero alarm (lib/workers/queue.ts) is a scaling signal to its policy, not news.
    const alarms = resources(tf, "aws_cloudwatch_metric_alarm").filter((a) => !String(a.alarm_name).startsWith("StepScaling-"));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect([alarm.alarm_name, alarm.alarm_actions, alarm.ok_actions]).toEqual([alarm.alarm_name, [topicArn(tf)], [topicArn(tf)]]);
  });

  test("the topic is encrypted with the environment's key, which lets only this environment's CloudWatch alarms and EventBridge rules of this account publish", () => {
    const key = resources(tf, "aws_kms_key").find((k) => String(k.description).endsWith(" environment key"))!;
    expect(only(tf, "aws_sns_topic").kms_master_key_id).toBe(ref(tf, "aws_kms_key", key, "arn"));
    const account = "${data.aws_caller_identity.Account.account_id}";
    const region = settings.region ?? "us-east-1";
    const prefix = resourcePrefix(settings);
    // The environment's budget (on unless budget.enabled is false) alerts the same topic.
    const budget = settings.budget?.enabled ?? true;
    const publishers = ["cloudwatch.amazonaws.com", "events.amazonaws.com", ...(budget ? ["budgets.amazonaws.com"] : [])];
    const sources = {
      StringEquals: { "aws:SourceAccount": account },
      ArnLike: {
        "aws:SourceArn": [
          `arn:aws:cloudwatch:${region}:${account}:alarm:${prefix}-*`,
          `arn:aws:events:${region}:${account}:rule/${prefix}-*`,
          ...(budget ? [`arn:aws:budgets::${account}:budget/${prefix}`] : []),
        ],
      },
    };
    expect(keyPolicy(tf).Statement).toContainEqual(
      expect.objectContaining({
        Principal: { Service: publishers },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Condition: sources,
      }),
    );
    const [statement] = JSON.parse(only(tf, "aws_sns_topic_policy").policy).Statement;
    expect(statement).toMatchObject({
      Action: "sns:Publish",
      Principal: { Service: publishers },
      Condition: sources,
    });
  });

  test("failed or rolled-back deployments and tasks that cannot start, of every service in the cluster, reach the topic", () => {
    // The service-event rule (a job adds a failed-runs rule of its own, tested in workers.test.ts).
    const rule = resources(tf, "aws_cloudwatch_event_rule").find((r) => r.name === `${resourcePrefix(settings)}-service-events`)!;
    const cluster = ref(tf, "aws_ecs_cluster", only(tf, "aws_ecs_cluster"), "name");
    const region = settings.region ?? "us-east-1";
    expect(JSON.parse(rule.event_pattern)).toEqual({
      source: ["aws.ecs"],
      "detail-type": ["ECS Deployment State Change", "ECS Service Action"],
      resources: [{ prefix: `arn:aws:ecs:${region}:\${data.aws_caller_identity.Account.account_id}:service/${cluster}/` }],
      detail: { eventType: ["WARN", "ERROR"] },
    });
    expect(resources(tf, "aws_cloudwatch_event_target").find((t) => t.rule === ref(tf, "aws_cloudwatch_event_rule", rule, "name"))).toMatchObject({
      arn: topicArn(tf),
    });
  });

  const withDashboard = settings.alarms?.dashboard !== false;
  test(withDashboard ? "the dashboard shows every alarm" : "has no dashboard, as alarms.dashboard says", () => {
    if (!withDashboard) return expect(resources(tf, "aws_cloudwatch_dashboard")).toEqual([]);
    const body = JSON.parse(only(tf, "aws_cloudwatch_dashboard").dashboard_body);
    const arns = resources(tf, "aws_cloudwatch_metric_alarm").map((a) => ref(tf, "aws_cloudwatch_metric_alarm", a, "arn"));
    expect([...body.widgets[0].properties.alarms].sort()).toEqual(arns.sort());
    expect(
      body.widgets
        .slice(1)
        .map((w: any) => w.properties.annotations.alarms[0])
        .sort(),
    ).toEqual(arns.sort());
  });

  test("an output names the topic, to subscribe to", () => {
    expect(synth(settings).output!.AlarmTopicArn.value).toBe(topicArn(tf));
  });
});

describe("what is watched", () => {
  test("prod: the load balancer's 5xx rate; the API's CPU, memory, running tasks, unhealthy targets, p99; the database's CPU, storage, memory, connections", () => {
    // What prod's settings ask for: running tasks with Container Insights, the database's four with a database.
    const prefix = resourcePrefix(prod);
    const others = Object.keys(prod.services ?? {}).map((key) => `${prefix}-${key}-`);
    const insights = prod.cluster?.containerInsights ?? true;
    const database = prod.database?.enabled ?? true;
    expect(alarmNames(synth(prod)).filter((n) => !others.some((o) => n.startsWith(o)))).toEqual(
      [
        "http-5xx",
        "cpu",
        "memory",
        ...(insights ? ["running-tasks"] : []),
        "unhealthy-targets",
        "p99-response-time",
        ...(database ? ["db-cpu", "db-free-storage", "db-free-memory", "db-connections"] : []),
      ]
        .map((n) => `${prefix}-${n}`)
        .sort(),
    );
  });

  test("a worker's alarms are its CPU, memory and running tasks: it has no targets", () => {
    const names = alarmNames(synth(env({ services: { worker: {} } })));
    expect(names.filter((n) => n.includes("-worker-"))).toEqual(["cpu", "memory", "running-tasks"].map((n) => `rest-api-test-worker-${n}`).sort());
  });

  test("a second API's alarms include its unhealthy targets and p99", () => {
    const variant = examples.find((e) => e.name === "dev-services")!;
    const names = alarmNames(synth(variant));
    expect(names).toContain(`${resourcePrefix(variant)}-admin-p99-response-time`);
    expect(names).toContain(`${resourcePrefix(variant)}-admin-unhealthy-targets`);
  });

  test("no database, no database alarms", () => {
    expect(alarmNames(synth(env({ database: { enabled: false } }))).filter((n) => n.includes("-db-"))).toEqual([]);
  });

  test("alarms.dashboard false keeps the alarms and leaves the dashboard out", () => {
    const tf = synth(env({ alarms: { dashboard: false } }));
    expect(resources(tf, "aws_cloudwatch_dashboard")).toEqual([]);
    expect(alarmNames(tf).length).toBeGreaterThan(0);
  });

  test("without Container Insights there is no task count to watch, so no running-tasks alarm", () => {
    expect(alarmNames(synth(env({ cluster: { containerInsights: false } }))).filter((n) => n.endsWith("running-tasks"))).toEqual([]);
  });

  test("the 5xx rate counts the load balancer's own 5xx and the targets', over all requests", () => {
    const alarm = byName(synth(env()), "http-5xx");
    expect(alarm.metric_query[0]).toMatchObject({ expression: "100 * (elb + targets) / MAX([requests, 1])", return_data: true });
    expect(alarm.metric_query.slice(1).map((q: any) => q.metric.metric_name)).toEqual(["HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "RequestCount"]);
  });

  test("the running-tasks alarm fires when fewer tasks run than desired for 15 minutes", () => {
    const alarm = byName(synth(env()), "running-tasks");
    expect(alarm).toMatchObject({ comparison_operator: "GreaterThanThreshold", threshold: 0, evaluation_periods: 3 });
    expect(alarm.metric_query[0].expression).toBe("desired - running");
  });
});

describe("thresholds are settings", () => {
  const tf = synth(
    env({
      alarms: {
        http5xxPercent: 10,
        targetP99Milliseconds: 500,
        cpuPercent: 70,
        memoryPercent: 75,
        databaseCpuPercent: 60,
        databaseFreeStorageGb: 5,
        databaseFreeMemoryMb: 128,
        databaseConnections: 200,
      },
    }),
  );
  test.each([
    ["http-5xx", 10],
    ["p99-response-time", 0.5],
    ["cpu", 70],
    ["memory", 75],
    ["db-cpu", 60],
    ["db-free-storage", 5 * 1024 ** 3],
    ["db-free-memory", 128 * 1024 ** 2],
    ["db-connections", 200],
  ])("%s at %d", (suffix, threshold) => {
    expect(byName(tf, suffix).threshold).toBe(threshold);
  });

  test("the defaults, as documented", () => {
    const defaults = AlarmSettingsSchema.parse({});
    const tf = synth(env());
    expect(byName(tf, "http-5xx").threshold).toBe(defaults.http5xxPercent);
    expect(byName(tf, "p99-response-time").threshold).toBe(defaults.targetP99Milliseconds / 1000);
    expect(byName(tf, "db-connections").threshold).toBe(defaults.databaseConnections);
  });
});

describe("settings", () => {
  test("each e-mail address gets a subscription to the topic", () => {
    const tf = synth(env({ alarms: { emails: ["ops@example.com", "oncall@example.com"] } }));
    expect(resources(tf, "aws_sns_topic_subscription").map((s) => [s.protocol, s.endpoint, s.topic_arn])).toEqual([
      ["email", "oncall@example.com", topicArn(tf)],
      ["email", "ops@example.com", topicArn(tf)],
    ]);
  });

  test("a string that is not an e-mail address is refused, naming its place in the list", () => {
    expect(() => synth(env({ alarms: { emails: ["ops@example.com", "pager"] } }))).toThrow(
      'Invalid setting alarms.emails.1 = "pager": not an e-mail address. Allowed: an address such as "ops@example.com".',
    );
  });

  test("turned off: no alarm, topic, rule, dashboard or output, and the key lets no publisher in", () => {
    const tf = synth(env({ alarms: { enabled: false } }));
    for (const type of ["aws_cloudwatch_metric_alarm", "aws_sns_topic", "aws_cloudwatch_event_rule", "aws_cloudwatch_dashboard"])
      expect(resources(tf, type)).toEqual([]);
    expect(tf.output!.AlarmTopicArn).toBeUndefined();
    expect(keyPolicy(tf).Statement.map((s: any) => s.Sid)).toEqual(["AccountAdministersThroughIam", "CloudWatchLogsEncryptsThisEnvironmentsLogGroups"]);
  });

  test("deploying manages the topic, the rule, the alarms and the dashboard of its own environment only; a release, the alarms and the dashboard alone", () => {
    const { statements: deploy, release } = deployPermissions(env({ ci: { githubRepository: "acme/rest-api" }, alarms: { dashboard: true } }));
    const sid = (id: string) => deploy.find((s) => s.Sid === id)!;
    // The topic and the rule decide who hears: the administrator's. A release tunes alarms and the dashboard.
    const released = (id: string) => release.find((s) => s.Sid === id);
    expect([released("AlarmsManage"), released("Dashboard")]).toEqual([sid("AlarmsManage"), sid("Dashboard")]);
    expect(list(released("AlarmTopicManageReads")?.Action)).toEqual(list(sid("AlarmTopicManage").Action).filter((a) => /:(Get|List)/.test(a)));
    expect(released("AlarmTopicManage")).toBeUndefined();
    expect(released("EventRuleManage")).toBeUndefined();
    const own = { "aws:ResourceTag/Project": "rest-api", "aws:ResourceTag/Environment": "test" };
    expect(sid("AlarmTopicManage")).toMatchObject({ Resource: "arn:aws:sns:eu-west-1:123456789012:rest-api-test-alarms", Condition: { StringEquals: own } });
    expect(sid("AlarmTopicSubscriptions").Resource).toBe("arn:aws:sns:eu-west-1:123456789012:rest-api-test-alarms:*");
    expect(sid("EventRuleManage")).toMatchObject({
      Resource: "arn:aws:events:eu-west-1:123456789012:rule/rest-api-test-service-events",
      Condition: { StringEquals: own },
    });
    expect(sid("AlarmsManage")).toMatchObject({
      Resource: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:rest-api-test-*",
      Condition: { StringEquals: own },
    });
    expect(sid("Dashboard").Resource).toBe("arn:aws:cloudwatch::123456789012:dashboard/rest-api-test");
  });
});

describe("on a bare stack", () => {
  const bare = () => {
    const stack = new TerraformStack(testApp(), "s");
    testKey(stack);
    const topic = new AlarmTopic(stack, "Topic", { emails: [] });
    return { stack, topic, alarms: new Alarms(stack, "Alarms", { ...AlarmSettingsSchema.parse({}), topic }) };
  };
  const loadBalancer = (stack: TerraformStack) => testLoadBalancer(stack);

  test("given a load balancer already watched, when it is handed over again, then it is refused: its alarms would be made twice", () => {
    const { stack, alarms } = bare();
    const lb = loadBalancer(stack);
    alarms.watch(lb);
    expect(() => alarms.watch(lb)).toThrow("Alarms s/Alarms: s/LoadBalancer is already watched; its alarms would be made twice");
  });

  test("given services whose construct ids say nothing of them, when they are watched, then each alarm is named by its key and watches its own service", () => {
    const { stack, alarms } = bare();
    const network = new Network(stack, "Network", { ...NetworkSettingsSchema.parse({}), availabilityZones: ["eu-west-1a", "eu-west-1b"] });
    const registry = new Registry(stack, "Registry", RegistrySettingsSchema.parse({}));
    const cluster = new Cluster(stack, "Cluster", ClusterSettingsSchema.parse({}));
    // Workers (no route), built under ids that no longer follow `<Key>Service`: the alarms must not read them.
    const worker = (id: string, key?: string) => {
      const name = key ? `test-bare-${key}` : "test-bare";
      const taskDefinition = new TaskDefinition(stack, `${id}Recipe`, {
        ...TaskSettingsSchema.parse({}),
        environment: {},
        name,
        repository: registry,
      });
      return new Service(stack, id, { ...ServiceSettingsSchema.parse({}), name, key, cluster, taskDefinition, network });
    };
    const services = [worker("Primary"), worker("Secondary", "admin")];
    for (const service of services) alarms.watch(service);
    const tf = JSON.parse(Testing.synth(stack)) as TfJson;
    const ecsService = (name: string) =>
      `\${${address(
        tf,
        "aws_ecs_service",
        resources(tf, "aws_ecs_service").find((s) => s.name === name)!,
      )}.name}`;
    const cpu = (name: string) => resources(tf, "aws_cloudwatch_metric_alarm").find((a) => a.alarm_name === name)!;
    expect(cpu("test-bare-cpu").dimensions.ServiceName).toBe(ecsService("test-bare"));
    expect(cpu("test-bare-admin-cpu").dimensions.ServiceName).toBe(ecsService("test-bare-admin"));
    // The alarm's dimensions are the service's own metric's.
    expect(cpu("test-bare-admin-cpu").dimensions).toEqual(resolved(stack, services[1].metricCpuUtilization()).dimensions);
    expect(Object.keys(tf.resource.aws_cloudwatch_metric_alarm).map((id) => id.replace(/_[0-9A-F]{8}$/, ""))).toEqual(
      expect.arrayContaining(["Alarms_ServiceCpu", "Alarms_AdminServiceCpu"]),
    );
  });

  test("given a topic on the environment key, when a second topic uses the same key, then the key policy keeps one publisher statement", () => {
    const { stack } = bare();
    new AlarmTopic(stack, "Again", { emails: [] });
    const tf = JSON.parse(Testing.synth(stack)) as TfJson;
    expect(JSON.parse(only(tf, "aws_kms_key").policy).Statement.filter((s: any) => s.Sid === "AlarmsAndEventsPublishToTheAlarmTopic")).toHaveLength(1);
  });

  test("given a key policy statement, when a different one comes under the same Sid, then it is refused", () => {
    const { stack } = bare();
    expect(() =>
      testKey(stack).addToResourcePolicy({ Sid: "AlarmsAndEventsPublishToTheAlarmTopic", Principal: { Service: "sns.amazonaws.com" }, Action: "kms:*" }),
    ).toThrow('EncryptionKey s/EncryptionKey: the key policy already has another statement "AlarmsAndEventsPublishToTheAlarmTopic"');
  });
});
