/**
 * Queue-fed workers and scheduled jobs (issue 23): what the stack makes of `services.<key>.queue` and
 * `jobs.<key>`, one behaviour each, and the bad settings synth refuses, naming the setting.
 */
import type { EnvironmentSettings } from "../../lib/settings/environment/settings";
import { parseSettings } from "../../lib/settings/environment/schema";
import { runsPerMonth, scheduleProblem } from "../../lib/calculators/schedule-expression";
import { estimateMonthlyCost, IDLE_RECEIVES_PER_TASK_MONTH, PRICES } from "../../lib/calculators/cost";
import { pricesOf } from "../../lib/core/resource-kind";
import { ApiStack } from "../../stacks/api-stack";
import { env, ref, resources, rolePolicy, synth, type TfJson } from "../support/helpers";
import { resolved, testApp } from "../support/bare-stack";

const worker = {
  task: { cpu: 256, memory: 512, command: ["dist/worker.mjs"] },
  database: true,
  queue: { publishers: ["api"] },
};
const nightly = { schedule: "cron(30 3 * * ? *)", timezone: "Europe/Berlin", task: { command: ["dist/housekeeping.mjs"] }, database: true };
const withWorkers = (more: Partial<EnvironmentSettings> = {}) => env({ services: { worker }, jobs: { nightly }, ...more });

const named = (tf: TfJson, type: string, name: string) => {
  const found = resources(tf, type).find((r) => (r.name ?? r.family ?? r.alarm_name) === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
};
const containerOf = (tf: TfJson, family: string) => JSON.parse(named(tf, "aws_ecs_task_definition", family).container_definitions)[0];
const variables = (tf: TfJson, family: string) =>
  Object.fromEntries((containerOf(tf, family).environment as { name: string; value: string }[]).map((v) => [v.name, v.value]));
const queueRef = (tf: TfJson, name: string, attribute: string) => ref(tf, "aws_sqs_queue", named(tf, "aws_sqs_queue", name), attribute);
const envKey = (tf: TfJson) =>
  ref(
    tf,
    "aws_kms_key",
    resources(tf, "aws_kms_key").find((k) => k.description === "rest-api-test environment key")!,
    "arn",
  );
const sqsStatements = (policy: { Statement: Record<string, any>[] }) =>
  policy.Statement.filter((s) => [s.Action].flat().some((a: string) => a.startsWith("sqs:")));

describe("a worker's queue (services.<key>.queue)", () => {
  test("given a queue, then SQS and a dead-letter queue, both encrypted with the environment's key, redriven after maxReceiveCount receives", () => {
    const tf = synth(withWorkers());
    const queue = named(tf, "aws_sqs_queue", "rest-api-test-worker");
    const dlq = named(tf, "aws_sqs_queue", "rest-api-test-worker-dlq");
    expect(queue).toMatchObject({
      kms_master_key_id: envKey(tf),
      visibility_timeout_seconds: 60,
      message_retention_seconds: 4 * 86400,
      receive_wait_time_seconds: 20,
    });
    expect(JSON.parse(queue.redrive_policy)).toEqual({ deadLetterTargetArn: queueRef(tf, "rest-api-test-worker-dlq", "arn"), maxReceiveCount: 5 });
    expect(dlq).toMatchObject({ kms_master_key_id: envKey(tf), message_retention_seconds: 14 * 86400 });
    // Only this queue may send its failures there.
    expect(JSON.parse(dlq.redrive_allow_policy)).toEqual({
      redrivePermission: "byQueue",
      sourceQueueArns: ["arn:aws:sqs:eu-west-1:${data.aws_caller_identity.Account.account_id}:rest-api-test-worker"],
    });
  });

  test("given retention, visibility and receives, then the queue takes them", () => {
    const tf = synth(withWorkers({ services: { worker: { ...worker, queue: { visibilityTimeoutSeconds: 120, retentionDays: 7, maxReceiveCount: 3 } } } }));
    const queue = named(tf, "aws_sqs_queue", "rest-api-test-worker");
    expect([queue.visibility_timeout_seconds, queue.message_retention_seconds, JSON.parse(queue.redrive_policy).maxReceiveCount]).toEqual([120, 7 * 86400, 3]);
  });

  test("the worker's task role may receive, delete and change visibility on its queue only, and decrypt with the key through SQS only", () => {
    const tf = synth(withWorkers());
    const policy = rolePolicy(tf, "rest-api-test-worker-task", "Connections");
    expect(sqsStatements(policy)).toEqual([
      {
        Effect: "Allow",
        Sid: "ConsumeWorkerQueue",
        Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        Resource: queueRef(tf, "rest-api-test-worker", "arn"),
      },
    ]);
    expect(policy.Statement.find((s) => s.Sid === "ConsumeWorkerQueueKey")).toEqual({
      Effect: "Allow",
      Sid: "ConsumeWorkerQueueKey",
      Action: ["kms:Decrypt"],
      Resource: envKey(tf),
      Condition: { StringEquals: { "kms:ViaService": "sqs.eu-west-1.amazonaws.com" } },
    });
  });

  test("a publisher named in settings may only send to it; a service not named gets nothing of it", () => {
    const tf = synth(withWorkers({ services: { worker: { ...worker, queue: { publishers: ["admin"] } }, admin: {}, other: {} } }));
    expect(sqsStatements(rolePolicy(tf, "rest-api-test-admin-task", "Connections"))).toEqual([
      { Effect: "Allow", Sid: "PublishWorkerQueue", Action: "sqs:SendMessage", Resource: queueRef(tf, "rest-api-test-worker", "arn") },
    ]);
    const api = rolePolicy(tf, "rest-api-test-task", "Connections");
    expect(sqsStatements(api)).toEqual([]);
    expect(() => rolePolicy(tf, "rest-api-test-other-task", "Connections")).toThrow(/no policy/);
  });

  test("the worker is told its queue and its budget; the default API, a publisher, its queue's URL", () => {
    const tf = synth(withWorkers());
    expect(variables(tf, "rest-api-test-worker")).toMatchObject({ QUEUE_URL: queueRef(tf, "rest-api-test-worker", "url"), MESSAGE_TIMEOUT_MS: "30000" });
    expect(variables(tf, "rest-api-test")).toMatchObject({ WORKER_QUEUE_URL: queueRef(tf, "rest-api-test-worker", "url") });
    expect(containerOf(tf, "rest-api-test-worker").portMappings).toBeUndefined();
  });

  test("the worker scales on backlog per task: messages waiting or in flight over running tasks, by target tracking on metric math", () => {
    const tf = synth(withWorkers({ cluster: { containerInsights: false }, services: { worker: { ...worker, queue: { messagesPerTask: 25 } } } }));
    const backlog = resources(tf, "aws_appautoscaling_policy").find((p) => String(p.name).endsWith("-backlog"))!;
    const config = backlog.target_tracking_scaling_policy_configuration;
    expect(config.target_value).toBe(25);
    const metrics = config.customized_metric_specification.metrics;
    expect(metrics.map((m: any) => [m.id, m.metric_stat?.metric.metric_name ?? m.expression])).toEqual([
      ["visible", "ApproximateNumberOfMessagesVisible"],
      ["inflight", "ApproximateNumberOfMessagesNotVisible"],
      // No Container Insights in this environment: each task's CPU sample counts it.
      ["tasks", "CPUUtilization"],
      ["backlog", "(visible + inflight) / MAX([FILL(tasks, 0), 1])"],
    ]);
    expect(metrics.filter((m: any) => m.return_data).map((m: any) => m.id)).toEqual(["backlog"]);
    expect(metrics[2].metric_stat.stat).toBe("SampleCount");
  });

  test("with Container Insights the running tasks are its RunningTaskCount", () => {
    const tf = synth(withWorkers());
    const backlog = resources(tf, "aws_appautoscaling_policy").find((p) => String(p.name).endsWith("-backlog"))!;
    expect(backlog.target_tracking_scaling_policy_configuration.customized_metric_specification.metrics[2].metric_stat).toMatchObject({
      metric: { namespace: "ECS/ContainerInsights", metric_name: "RunningTaskCount" },
      stat: "Average",
    });
  });

  test("down to zero where minCapacity is 0: a step policy starts the first task when messages wait and none runs", () => {
    const zero = synth(withWorkers({ services: { worker: { ...worker, service: { desiredCount: 0 }, autoscaling: { minCapacity: 0, maxCapacity: 3 } } } }));
    const fromZero = resources(zero, "aws_appautoscaling_policy").find((p) => String(p.name).endsWith("-from-zero"))!;
    expect(fromZero.step_scaling_policy_configuration).toMatchObject({ adjustment_type: "ChangeInCapacity", step_adjustment: [{ scaling_adjustment: 1 }] });
    const alarm = resources(zero, "aws_cloudwatch_metric_alarm").find((a) => String(a.alarm_name).endsWith("-from-zero"))!;
    expect(alarm.alarm_actions).toEqual([ref(zero, "aws_appautoscaling_policy", fromZero, "arn")]);
    expect(alarm.metric_query.find((q: any) => q.return_data).expression).toBe("IF(FILL(tasks, 0) == 0 AND FILL(visible, 0) > 0, 1, 0)");
    const one = synth(withWorkers());
    expect(resources(one, "aws_appautoscaling_policy").filter((p) => String(p.name).endsWith("-from-zero"))).toEqual([]);
  });

  test("alarms: the oldest message's age over its threshold, and anything in the dead-letter queue, to the alarm topic", () => {
    const tf = synth(withWorkers({ services: { worker: { ...worker, queue: { oldestMessageAlarmSeconds: 900 } } } }));
    const topic = ref(tf, "aws_sns_topic", resources(tf, "aws_sns_topic")[0], "arn");
    const oldest = named(tf, "aws_cloudwatch_metric_alarm", "rest-api-test-worker-oldest-message");
    expect(oldest).toMatchObject({
      metric_name: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: queueRef(tf, "rest-api-test-worker", "name") },
      threshold: 900,
      alarm_actions: [topic],
      ok_actions: [topic],
    });
    const dead = named(tf, "aws_cloudwatch_metric_alarm", "rest-api-test-worker-dead-letters");
    expect(dead).toMatchObject({
      metric_name: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: queueRef(tf, "rest-api-test-worker-dlq", "name") },
      comparison_operator: "GreaterThanThreshold",
      threshold: 0,
      alarm_actions: [topic],
    });
  });

  test("the environment's permissions boundary lets its roles use its queues and its key through SQS, nothing more of SQS", () => {
    const tf = synth(withWorkers());
    const boundary = JSON.parse(named(tf, "aws_iam_policy", "rest-api-test-boundary").policy);
    const sqs = boundary.Statement.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith("sqs:")));
    expect(sqs.map((s: any) => s.Resource)).toEqual(["arn:aws:sqs:eu-west-1:${data.aws_caller_identity.Account.account_id}:rest-api-test-*"]);
    expect(boundary.Statement.find((s: any) => s.Sid === "QueueKeys").Condition.StringEquals["kms:ViaService"]).toBe("sqs.eu-west-1.amazonaws.com");
  });

  test("an environment without queues or jobs synthesizes exactly as before: none of their resources", () => {
    const tf = synth(env());
    for (const type of ["aws_sqs_queue", "aws_scheduler_schedule", "aws_scheduler_schedule_group"]) expect([type, resources(tf, type)]).toEqual([type, []]);
  });
});

describe("the queue's and the job's metrics", () => {
  const stack = new ApiStack(testApp(), "test", withWorkers());
  const tf = synth(withWorkers());
  const alarm = (name: string) => named(tf, "aws_cloudwatch_metric_alarm", name);

  test("given a worker's queue, when its oldest message's age is asked for, then it names that queue, and its alarm watches exactly that", () => {
    const metric = resolved(stack, stack.services.worker.queue!.metricApproximateAgeOfOldestMessage());
    expect(metric).toEqual({
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: queueRef(tf, "rest-api-test-worker", "name") },
      statistic: "Maximum",
      period: 300,
    });
    expect(alarm("rest-api-test-worker-oldest-message")).toMatchObject({
      namespace: metric.namespace,
      metric_name: metric.metricName,
      dimensions: metric.dimensions,
      statistic: metric.statistic,
      period: metric.period,
    });
  });

  test("given a job, when its dropped runs are asked for, then they are its schedule group's, named as written, and the jobs-not-started alarm watches them", () => {
    const metric = resolved(stack, stack.jobs.nightly.job.metricInvocationDroppedCount());
    expect(metric).toEqual({
      namespace: "AWS/Scheduler",
      metricName: "InvocationDroppedCount",
      dimensions: { ScheduleGroup: "rest-api-test" },
      statistic: "Sum",
      period: 300,
    });
    expect(alarm("rest-api-test-jobs-not-started")).toMatchObject({ metric_name: metric.metricName, dimensions: metric.dimensions, statistic: "Sum" });
  });
});

describe("a scheduled job (jobs.<key>)", () => {
  test("given a cron schedule and a time zone, then EventBridge Scheduler runs its task definition in the services' network, retrying a refused start", () => {
    const tf = synth(withWorkers());
    const schedule = named(tf, "aws_scheduler_schedule", "rest-api-test-nightly");
    const group = resources(tf, "aws_scheduler_schedule_group")[0];
    expect(group.name).toBe("rest-api-test");
    expect(schedule).toMatchObject({
      group_name: ref(tf, "aws_scheduler_schedule_group", group, "name"),
      schedule_expression: "cron(30 3 * * ? *)",
      schedule_expression_timezone: "Europe/Berlin",
      state: "ENABLED",
      flexible_time_window: { mode: "OFF" },
    });
    const target = schedule.target;
    expect(target.arn).toBe(ref(tf, "aws_ecs_cluster", resources(tf, "aws_ecs_cluster")[0], "arn"));
    expect(target.retry_policy).toEqual({ maximum_retry_attempts: 2, maximum_event_age_in_seconds: 3600 });
    expect(target.ecs_parameters).toMatchObject({
      task_definition_arn: ref(tf, "aws_ecs_task_definition", named(tf, "aws_ecs_task_definition", "rest-api-test-nightly"), "arn"),
      task_count: 1,
      network_configuration: { security_groups: [ref(tf, "aws_security_group", named(tf, "aws_security_group", "rest-api-test-nightly-tasks"), "id")] },
    });
    expect(target.ecs_parameters.network_configuration.subnets).toEqual(resources(tf, "aws_ecs_service")[0].network_configuration.subnets);
    expect(containerOf(tf, "rest-api-test-nightly").command).toEqual(["sh", "-c", "echo 'placeholder image: no release yet, nothing to run'"]);
  });

  test("given a release, then the job runs the command it names on the release's image", () => {
    const tf = synth(withWorkers(), { imageTag: "v2" });
    expect(containerOf(tf, "rest-api-test-nightly")).toMatchObject({ command: ["dist/housekeeping.mjs"], image: expect.stringMatching(/:v2$/) });
  });

  test("enabled: false pauses the schedule; a rate expression is taken as written", () => {
    const tf = synth(withWorkers({ jobs: { nightly: { ...nightly, enabled: false, schedule: "rate(6 hours)" } } }));
    expect(named(tf, "aws_scheduler_schedule", "rest-api-test-nightly")).toMatchObject({ state: "DISABLED", schedule_expression: "rate(6 hours)" });
  });

  test("the scheduler's role is assumed by EventBridge Scheduler for the environment's schedule group (the source AWS presents), and may run only this task definition in this cluster and pass only its two roles", () => {
    const tf = synth(withWorkers());
    const role = named(tf, "aws_iam_role", "rest-api-test-nightly-scheduler");
    expect(JSON.parse(role.assume_role_policy).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": "${data.aws_caller_identity.Account.account_id}" },
          ArnLike: {
            "aws:SourceArn": "arn:aws:scheduler:eu-west-1:${data.aws_caller_identity.Account.account_id}:schedule-group/rest-api-test",
          },
        },
      },
    ]);
    const roleRef = (suffix: string) => ref(tf, "aws_iam_role", named(tf, "aws_iam_role", `rest-api-test-nightly-${suffix}`), "arn");
    const statements = rolePolicy(tf, "rest-api-test-nightly-scheduler", "Policy").Statement;
    expect(statements).toEqual([
      {
        Effect: "Allow",
        Sid: "RunThisTaskDefinition",
        Action: "ecs:RunTask",
        Resource: "arn:aws:ecs:eu-west-1:${data.aws_caller_identity.Account.account_id}:task-definition/rest-api-test-nightly:*",
        Condition: { ArnEquals: { "ecs:cluster": ref(tf, "aws_ecs_cluster", resources(tf, "aws_ecs_cluster")[0], "arn") } },
      },
      {
        Effect: "Allow",
        Sid: "PassItsRoles",
        Action: "iam:PassRole",
        Resource: [roleRef("execution"), roleRef("task")],
        Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      },
      expect.objectContaining({ Sid: "TagItsTasks", Action: "ecs:TagResource", Condition: { StringEquals: { "ecs:CreateAction": "RunTask" } } }),
    ]);
    expect(role.permissions_boundary).toBeDefined();
  });

  test("a run that exits non-zero or cannot start is matched by a rule to the alarm topic, and alarms; dropped runs alarm once per environment", () => {
    const tf = synth(withWorkers({ jobs: { nightly, weekly: { ...nightly, schedule: "cron(0 4 ? * SUN *)" } } }));
    const topic = ref(tf, "aws_sns_topic", resources(tf, "aws_sns_topic")[0], "arn");
    const rule = named(tf, "aws_cloudwatch_event_rule", "rest-api-test-nightly-failed-runs");
    expect(JSON.parse(rule.event_pattern)).toEqual({
      source: ["aws.ecs"],
      "detail-type": ["ECS Task State Change"],
      detail: {
        clusterArn: [ref(tf, "aws_ecs_cluster", resources(tf, "aws_ecs_cluster")[0], "arn")],
        group: ["family:rest-api-test-nightly"],
        lastStatus: ["STOPPED"],
        $or: [{ containers: { exitCode: [{ "anything-but": 0 }] } }, { stopCode: ["TaskFailedToStart"] }],
      },
    });
    expect(resources(tf, "aws_cloudwatch_event_target").find((t) => t.rule === ref(tf, "aws_cloudwatch_event_rule", rule, "name"))?.arn).toBe(topic);
    expect(named(tf, "aws_cloudwatch_metric_alarm", "rest-api-test-nightly-failed-runs")).toMatchObject({
      namespace: "AWS/Events",
      metric_name: "MatchedEvents",
      dimensions: { RuleName: ref(tf, "aws_cloudwatch_event_rule", rule, "name") },
      alarm_actions: [topic],
    });
    expect(resources(tf, "aws_cloudwatch_metric_alarm").filter((a) => a.alarm_name === "rest-api-test-jobs-not-started")).toHaveLength(1);
  });

  test("given database: true, then its tasks may reach the database and log in as the app's role (no migrate container, no owner's login); without, neither", () => {
    const tf = synth(withWorkers());
    const sg = ref(tf, "aws_security_group", named(tf, "aws_security_group", "rest-api-test-nightly-tasks"), "id");
    expect(
      resources(tf, "aws_vpc_security_group_egress_rule")
        .filter((r) => r.security_group_id === sg)
        .map((r) => r.to_port)
        .sort(),
    ).toEqual([443, 5432]);
    expect(variables(tf, "rest-api-test-nightly")).toMatchObject({ DB_HOST: expect.any(String), DB_IAM_USER: "app" });
    const job = resources(tf, "aws_ecs_task_definition").find((t) => t.family === "rest-api-test-nightly")!;
    expect(JSON.parse(job.container_definitions).map((c: { name: string }) => c.name)).toEqual(["app"]);
    const without = synth(withWorkers({ jobs: { nightly: { ...nightly, database: false } } }));
    expect(variables(without, "rest-api-test-nightly").DB_HOST).toBeUndefined();
  });

  test("a job may publish to a worker's queue, send only", () => {
    const tf = synth(withWorkers({ services: { worker: { ...worker, queue: { publishers: ["nightly"] } } } }));
    expect(sqsStatements(rolePolicy(tf, "rest-api-test-nightly-task", "Connections"))).toEqual([
      { Effect: "Allow", Sid: "PublishWorkerQueue", Action: "sqs:SendMessage", Resource: queueRef(tf, "rest-api-test-worker", "arn") },
    ]);
  });
});

describe("bad settings for workers and jobs stop synth, naming the setting", () => {
  const CASES: [setting: string, overrides: Partial<EnvironmentSettings>, mentions: RegExp][] = [
    ["jobs.nightly.schedule", { jobs: { nightly: { ...nightly, schedule: "cron(0 3 * * *)" } } }, /5 fields, but a cron expression has 6/],
    ["jobs.nightly.schedule", { jobs: { nightly: { ...nightly, schedule: "cron(0 3 * * MON *)" } } }, /exactly one of day-of-month and day-of-week must be \?/],
    ["jobs.nightly.schedule", { jobs: { nightly: { ...nightly, schedule: "cron(60 3 * * ? *)" } } }, /minutes "60": "60" is outside 0-59/],
    ["jobs.nightly.schedule", { jobs: { nightly: { ...nightly, schedule: "cron(0 3 ? * FUN *)" } } }, /day-of-week "FUN"/],
    ["jobs.nightly.schedule", { jobs: { nightly: { ...nightly, schedule: "rate(1 hours)" } } }, /singular unit/],
    ["jobs.nightly.schedule", { jobs: { nightly: { ...nightly, schedule: "rate(5 weeks)" } } }, /minutes, hours or days/],
    ["jobs.nightly.schedule", { jobs: { nightly: { ...nightly, schedule: "0 3 * * *" } } }, /neither rate\(\.\.\.\) nor cron\(\.\.\.\)/],
    ["jobs.nightly.schedule", { jobs: { nightly: { ...nightly, schedule: "at(2030-01-01T00:00:00)" } } }, /one-time/],
    ["jobs.nightly.timezone", { jobs: { nightly: { ...nightly, timezone: "Europe/Berln" } } }, /"Europe\/Berlin"/],
    ["jobs.nightly.retryAttempts", { jobs: { nightly: { ...nightly, retryAttempts: 200 } } }, /0 to 185/],
    ["jobs.nightly.task.memory", { jobs: { nightly: { ...nightly, task: { cpu: 256, memory: 4096 } } } }, /jobs\.nightly\.task\.cpu = 256/],
    ["jobs.nightly.database", { database: { enabled: false }, jobs: { nightly } }, /no database/],
    ["jobs.worker", { services: { worker }, jobs: { worker: nightly } }, /services\.worker has this key too/],
    ["jobs.Nightly", { jobs: { Nightly: nightly } } as never, /not a job key/],
    ["jobs.nightly.scheduel", { jobs: { nightly: { ...nightly, scheduel: "x" } } } as never, /did you mean "schedule"/],
    [
      "services.worker.queue.visibilityTimeoutSeconds",
      { services: { worker: { ...worker, queue: { visibilityTimeoutSeconds: 40 } } } },
      /shorter than the worker's stop timeout \(services\.worker\.task\.stopTimeoutSeconds 45 s\)/,
    ],
    [
      "services.worker.queue.visibilityTimeoutSeconds",
      { services: { worker: { ...worker, queue: { processingSeconds: 120 } } } },
      /processing budget \(processingSeconds 120\).*Allowed: 125 or more/,
    ],
    [
      "services.worker.queue.publishers.0",
      { services: { worker: { ...worker, queue: { publishers: ["billing"] } } } },
      /no service or job has this key.*admin|no service or job has this key/,
    ],
    ["services.worker.queue.publishers.1", { services: { worker: { ...worker, queue: { publishers: ["api", "api"] } } } }, /listed twice/],
    [
      "services.api.queue.publishers.0",
      { services: { api: { ...worker, queue: { publishers: ["api"] } } } },
      /names the default API, and services\.api exists too/,
    ],
    ["services.admin.queue", { services: { admin: { route: { pathPatterns: ["/admin/*"] }, queue: {} } } }, /has a route: a queue is consumed by a worker/],
    [
      "services.worker.queue.deadLetterRetentionDays",
      { services: { worker: { ...worker, queue: { retentionDays: 7, deadLetterRetentionDays: 3 } } } },
      /retentionDays 7/,
    ],
    ["services.worker.queue.maxReceiveCount", { services: { worker: { ...worker, queue: { maxReceiveCount: 0 } } } }, /1 to 1000/],
    [
      "services.worker.task.environment.SHUTDOWN_TIMEOUT_MS",
      { services: { worker: { ...worker, task: { ...worker.task, environment: { APP_ENV: "x", SHUTDOWN_TIMEOUT_MS: "50000" } } } } },
      /must fit in services\.worker\.task\.stopTimeoutSeconds \(45 s\)/,
    ],
    [
      "services.worker.task.environment.QUEUE_URL",
      { services: { worker: { ...worker, task: { ...worker.task, environment: { APP_ENV: "x", QUEUE_URL: "https://elsewhere" } } } } },
      /sets this variable itself/,
    ],
    [
      "task.environment.WORKER_QUEUE_URL",
      { services: { worker }, task: { environment: { APP_ENV: "x", WORKER_QUEUE_URL: "x" } } },
      /sets this variable itself/,
    ],
  ];
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  test.each(CASES)("%s: %j", (setting, overrides, mentions) => {
    let message = "";
    try {
      parseSettings(env(overrides));
    } catch (error) {
      expect((error as Error).name).toBe("SettingError");
      message = (error as Error).message;
    }
    expect(message).toMatch(new RegExp(`^Invalid setting ${escape(setting)} = .*: .+\\. Allowed: .+\\.$`, "s"));
    expect(message).toMatch(mentions);
  });

  test("the shipped variant with every shape is valid", () => {
    expect(() => parseSettings(withWorkers())).not.toThrow();
  });
});

describe("schedule expressions", () => {
  test.each([
    "rate(1 minute)",
    "rate(15 minutes)",
    "rate(1 day)",
    "cron(0 3 * * ? *)",
    "cron(0/15 9-17 ? * MON-FRI *)",
    "cron(0 12 L * ? *)",
    "cron(0 8 ? * 2#1 2027)",
    "cron(5,35 */2 1,15 JAN-JUN ? *)",
  ])("%s is valid", (expression) => expect(scheduleProblem(expression)).toBeUndefined());

  test("runs a month: exact for a rate, counted for a cron", () => {
    expect(runsPerMonth("rate(1 hour)")).toBe(730);
    expect(runsPerMonth("rate(30 minutes)")).toBe(1460);
    expect(runsPerMonth("cron(30 3 * * ? *)")).toBeCloseTo(30.4, 1);
    expect(runsPerMonth("cron(0 9 ? * MON-FRI *)")).toBeCloseTo(21.7, 1);
    expect(runsPerMonth("cron(0/15 * * * ? *)")).toBeCloseTo(2918.4, 1);
  });
});

describe("npm run cost prices queues and schedules", () => {
  test("a queue by the idle long polling of the tasks its worker keeps running; a job by its runs a month, their Fargate minutes and invocations", () => {
    const estimate = estimateMonthlyCost(
      synth(withWorkers({ services: { worker: { ...worker, service: { desiredCount: 2 } } } }), { offline: true }),
      pricesOf(),
    );
    expect(estimate.unpriced).toEqual([]);
    const queue = estimate.lines.find((l) => l.item === "SQS: rest-api-test-worker")!;
    expect(queue.monthly).toBeCloseTo((2 * IDLE_RECEIVES_PER_TASK_MONTH * PRICES.sqsRequestPerMillion) / 1e6, 2);
    // The dead-letter queue is polled by nobody.
    expect(estimate.lines.filter((l) => l.item.startsWith("SQS:"))).toHaveLength(1);
    // Every night at 03:30 in Berlin, 5 minutes (expectedMinutes) of the default 0.5 vCPU / 1 GB, on-demand.
    const job = estimate.lines.find((l) => l.item === "Scheduled job: rest-api-test-nightly")!;
    const runs = runsPerMonth("cron(30 3 * * ? *)");
    const x86 = PRICES.fargate.X86_64;
    expect(job.monthly).toBeCloseTo(runs * (5 / 60) * (0.5 * x86.vcpuHour + 1 * x86.gbHour) + (runs * PRICES.schedulerInvocationPerMillion) / 1e6, 2);
    expect(job.detail).toMatch(/about 30 runs × 5 min/);
  });

  test("a worker scaled to zero polls nothing; a paused job runs nothing", () => {
    const estimate = estimateMonthlyCost(
      synth(
        withWorkers({
          services: { worker: { ...worker, service: { desiredCount: 0 }, autoscaling: { minCapacity: 0 } } },
          jobs: { nightly: { ...nightly, enabled: false } },
        }),
        { offline: true },
      ),
      pricesOf(),
    );
    expect(estimate.lines.filter((l) => /^(SQS|Scheduled job):/.test(l.item)).map((l) => l.monthly)).toEqual([0, 0]);
  });
});
