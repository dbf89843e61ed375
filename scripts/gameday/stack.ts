/**
 * What the game day runs, read from an environment's synthesized `cdk.tf.json` (never from the
 * settings): the default API's task definition, its service, its target group, the load balancer and
 * the web ACL, as Terraform would create them.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { ApiStack } from "../../stacks/api-stack";
import { environments } from "../../environments/environments";
import { resourcePrefix } from "../../lib/settings/environment/settings";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- synthesized Terraform JSON has no static types, as in the tests
type Resource = Record<string, any>;
type TfJson = { resource: Record<string, Record<string, Resource>> };

export interface ContainerHealthCheck {
  readonly command: readonly string[];
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly retries: number;
  readonly startPeriodSeconds: number;
}

/** A container the app container depends on (the API's migrate container), run before it as ECS runs it. */
export interface InitContainerSpec {
  readonly name: string;
  readonly command?: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
}

export interface TaskSpec {
  readonly family: string;
  /** The container the app waits for with condition SUCCESS, if any. */
  readonly init?: InitContainerSpec;
  /** The container's command; none means the image's CMD. */
  readonly command?: readonly string[];
  /** Name → value as synthesized: literals, or Terraform references the harness resolves. */
  readonly environment: Readonly<Record<string, string>>;
  /** Name → valueFrom (a Secrets Manager ARN, optionally with a JSON key), resolved as the execution role would. */
  readonly secrets: Readonly<Record<string, string>>;
  readonly user?: string;
  readonly readonlyRootFilesystem: boolean;
  readonly stopTimeoutSeconds: number;
  readonly healthCheck?: ContainerHealthCheck;
  readonly containerPort: number;
  /** The task's memory (the task definition's `memory`, MiB): its containers together are stopped past it, as ECS stops a task out of memory. */
  readonly memoryMiB?: number;
}

export interface ServiceSpec {
  readonly name: string;
  readonly desiredCount: number;
  readonly minimumHealthyPercent: number;
  readonly maximumPercent: number;
  readonly healthCheckGracePeriodSeconds: number;
  readonly circuitBreaker: boolean;
}

export interface TargetGroupSpec {
  readonly path: string;
  readonly matcher: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  readonly deregistrationDelaySeconds: number;
}

export interface WebAclSpec {
  /** The common rule set's rules that count instead of block. */
  readonly countedRules: readonly string[];
  /** The `aws_wafv2_web_acl` as synthesized: its rules, statements and default action, which scripts/gameday/waf.ts evaluates. */
  readonly resource: Resource;
}

export interface DatabaseSpec {
  readonly username: string;
  /** The app's own role (the container's DB_IAM_USER), which logs in with an IAM token on AWS; none when the app logs in as the master user. */
  readonly appUsername?: string;
  readonly name: string;
  /** The Terraform reference of the RDS-managed secret's ARN, as the task definition names it. */
  readonly secretArnRef: string;
  /** The Terraform reference of the instance's address. */
  readonly addressRef: string;
}

export interface GamedaySpec {
  readonly environment: string;
  readonly prefix: string;
  readonly region: string;
  readonly task: TaskSpec;
  readonly service: ServiceSpec;
  readonly targetGroup: TargetGroupSpec;
  readonly idleTimeoutSeconds: number;
  readonly database: DatabaseSpec;
  readonly webAcl?: WebAclSpec;
}

const refKey = (ref: string): string => {
  const match = /^\$\{[a-z0-9_]+\.([A-Za-z0-9_]+)\.[a-z_]+\}$/.exec(ref);
  if (!match) throw new Error(`not a Terraform resource reference: ${ref}`);
  return match[1];
};

function only<T>(items: readonly T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected one ${what} in the synthesized stack, found ${items.length}`);
  return items[0];
}

/** Synthesizes one environment offline, as a release would (an image from its repository), and reads it. */
export function synthesize(name: string): { tf: TfJson; prefix: string } {
  const settings = environments.find((e) => e.name === name);
  if (!settings) throw new Error(`no environment "${name}"; the environments are ${environments.map((e) => e.name).join(", ")}`);
  const outdir = mkdtempSync(join(tmpdir(), "gameday-synth-"));
  try {
    const app = new App({ outdir, stackTraces: false });
    new ApiStack(app, name, settings, { offline: true, imageTag: "gameday" });
    app.synth();
    return { tf: JSON.parse(readFileSync(join(outdir, "stacks", name, "cdk.tf.json"), "utf8")), prefix: resourcePrefix(settings) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The default API (the service named `<prefix>`) and everything it runs on. */
export function readSpec(environment: string, tf: TfJson, prefix: string): GamedaySpec {
  const resources = (type: string): Resource[] => Object.values(tf.resource[type] ?? {});
  const byKey = (type: string, ref: string): Resource => {
    const found = tf.resource[type]?.[refKey(ref)];
    if (!found) throw new Error(`the synthesized stack has no ${type} for ${ref}`);
    return found;
  };
  const service = only(
    resources("aws_ecs_service").filter((s) => s.name === prefix),
    `aws_ecs_service named ${prefix}`,
  );
  const taskDefinition = byKey("aws_ecs_task_definition", service.task_definition);
  const containers = JSON.parse(taskDefinition.container_definitions) as Resource[];
  const container = only(
    containers.filter((c) => c.name === service.load_balancer[0].container_name),
    "app container",
  );
  // The container the app waits for to exit 0 (the migrate container); a sidecar it only waits to START is not the game day's to run.
  const dependencies = ((container.dependsOn ?? []) as { containerName: string; condition: string }[]).filter((d) => d.condition === "SUCCESS");
  if (dependencies.length > 1)
    throw new Error(`the game day runs one container the app depends on with condition SUCCESS; got ${JSON.stringify(dependencies)}`);
  const initDefinition =
    dependencies[0] &&
    only(
      containers.filter((c) => c.name === dependencies[0].containerName),
      `container ${dependencies[0].containerName}`,
    );
  const variables = (c: Resource): Record<string, string> =>
    Object.fromEntries((c.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]));
  const secretsOf = (c: Resource): Record<string, string> =>
    Object.fromEntries((c.secrets as { name: string; valueFrom: string }[]).map((e) => [e.name, e.valueFrom]));
  const targetGroup = byKey("aws_lb_target_group", service.load_balancer[0].target_group_arn);
  const lb = only(resources("aws_lb"), "aws_lb");
  const db = only(resources("aws_db_instance"), "aws_db_instance");
  const dbKey = Object.keys(tf.resource.aws_db_instance)[0];
  const acl = resources("aws_wafv2_web_acl")[0];
  const provider = (tf as unknown as { provider: { aws: { region: string }[] } }).provider.aws[0];
  const hc = container.healthCheck;
  const common = acl?.rule.find((r: Resource) => r.statement.managed_rule_group_statement?.name === "AWSManagedRulesCommonRuleSet");

  return {
    environment,
    prefix,
    region: provider.region,
    task: {
      family: taskDefinition.family,
      init: initDefinition && {
        name: initDefinition.name,
        command: initDefinition.command,
        environment: variables(initDefinition),
        secrets: secretsOf(initDefinition),
      },
      command: container.command,
      environment: variables(container),
      secrets: secretsOf(container),
      user: container.user,
      readonlyRootFilesystem: container.readonlyRootFilesystem,
      stopTimeoutSeconds: container.stopTimeout ?? 30,
      healthCheck: hc && {
        command: hc.command,
        intervalSeconds: hc.interval,
        timeoutSeconds: hc.timeout,
        retries: hc.retries,
        startPeriodSeconds: hc.startPeriod,
      },
      containerPort: container.portMappings[0].containerPort,
      memoryMiB: taskDefinition.memory === undefined ? undefined : Number(taskDefinition.memory),
    },
    service: {
      name: service.name,
      desiredCount: service.desired_count,
      minimumHealthyPercent: service.deployment_minimum_healthy_percent,
      maximumPercent: service.deployment_maximum_percent,
      healthCheckGracePeriodSeconds: service.health_check_grace_period_seconds,
      circuitBreaker: Boolean(service.deployment_circuit_breaker?.enable),
    },
    targetGroup: {
      path: targetGroup.health_check.path,
      matcher: targetGroup.health_check.matcher,
      intervalSeconds: targetGroup.health_check.interval,
      timeoutSeconds: targetGroup.health_check.timeout,
      healthyThreshold: targetGroup.health_check.healthy_threshold,
      unhealthyThreshold: targetGroup.health_check.unhealthy_threshold,
      deregistrationDelaySeconds: Number(targetGroup.deregistration_delay),
    },
    idleTimeoutSeconds: lb.idle_timeout,
    database: {
      username: db.username,
      appUsername: variables(container).DB_IAM_USER,
      name: db.db_name,
      secretArnRef: `\${aws_db_instance.${dbKey}.master_user_secret[0].secret_arn}`,
      addressRef: `\${aws_db_instance.${dbKey}.address}`,
    },
    webAcl: acl && {
      countedRules: (common?.statement.managed_rule_group_statement.rule_action_override ?? [])
        .filter((o: Resource) => o.action_to_use?.count)
        .map((o: Resource) => o.name),
      resource: acl,
    },
  };
}
