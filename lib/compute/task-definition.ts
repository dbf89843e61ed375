import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import * as z from "zod/mini";
import { APP_IMAGE_HEALTH_CHECK, ImageSettingsSchema, placeholderCommand, resolveImage, ResolvedImage } from "../registry/container-image";
import type { Connection, WiredSecret } from "../core/connection";
import { ServiceRole, Statement } from "../core/iam";
import { DeployPermissions } from "../core/deploy-permissions";
import { holdings, ResourceKind } from "../core/resource-kind";

/** A task definition: the recipe, registered as a new revision each release. */
export const TASK_DEFINITIONS = new ResourceKind({
  name: "ECS task definition",
  file: __filename,
  types: ["aws_ecs_task_definition"],
  // Tagged when registered; a revision's tags are never changed afterwards, so no untag call.
  deploy: { services: ["ecs"], tag: ["ecs:TagResource"] },
  endpoints: ["ecs"],
  price: { why: "charged as the tasks that run it: the services' Fargate lines and the scheduled jobs'" },
  inventory: async (aws) => holdings("ecs", "task-definition", (await aws("ecs", "ListTaskDefinitions", { status: "ACTIVE" })).taskDefinitionArns ?? []),
  alarms: { why: "a recipe has no metrics; the tasks that run it are watched by their service's alarms" },
});
import { PermissionsBoundary } from "../core/permissions-boundary";
import type { Release } from "../registry/release";
import { ECR_PULL_ACTIONS, type IRepository } from "../registry/registry";
import { logGroup } from "../core/log-group";
import { EnvironmentContext } from "../core/environment";
import { fail, flag, int, matching, retention, rule, variables, withDefault } from "../settings/rules";
import { check } from "../settings/validate";
import { jsonString } from "../core/hcl";
import { allowTracesInBoundary, COLLECTOR_CONTAINER_NAME, collectorContainer, traceWriteStatements, tracingEnvironment } from "./tracing";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRETS_MANAGER_ARN = /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+)(:[^:]*:[^:]*:[^:]*)?$/;
const SSM_PARAMETER_ARN = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9/_.-]+$/;

/** A container health check, run inside the container; the image must have the command's tools. */
export const ContainerHealthCheckSchema = z.strictObject({
  /**
   * Exit 0 means healthy. A string runs in the image's shell (CMD-SHELL), e.g. "wget -q -O- http://localhost:8080/health";
   * an array runs without a shell (CMD), e.g. ["/nodejs/bin/node", "/app/dist/healthcheck.mjs"].
   */
  command: z.union([z.string(), z.readonly(z.array(z.string()))]).check(
    rule<string | readonly string[]>(
      (c) => (typeof c === "string" ? c.trim().length > 0 : c.length > 0 && c.every((part) => part.length > 0)),
      (c) => (typeof c === "string" ? "empty" : "empty, or an empty part"),
      'a shell command string, or an array of program and arguments such as ["/nodejs/bin/node", "/app/dist/healthcheck.mjs"]',
    ),
  ),
  /** Seconds between checks. @default 30 */
  intervalSeconds: withDefault(int(5, 300), 30),
  /** Seconds a check may take before it counts as failed; ECS allows 2–60. @default 5 */
  timeoutSeconds: withDefault(int(2, 60), 5),
  /** Consecutive failures before the container is unhealthy and replaced. @default 3 */
  retries: withDefault(int(1, 10), 3),
  /** Grace after start before failures count. @default 10 */
  startPeriodSeconds: withDefault(int(0, 300), 10),
});
export type ContainerHealthCheck = z.input<typeof ContainerHealthCheckSchema>;

/** Variable names a shell and the app can read. */
const variableNames = z.superRefine<Readonly<Record<string, string>>>((vars, ctx) => {
  const bad = Object.keys(vars).find((name) => !ENV_NAME.test(name));
  if (bad !== undefined) fail(ctx, [], bad, "not a valid variable name", "letters, digits and _, not starting with a digit");
});

/** The recipe: what runs in each task. Defaults are the chapter's example, 0.5 vCPU, 1 GB, port 8080. */
export const TaskSettingsSchema = z.strictObject({
  /** CPU units (1024 = 1 vCPU); Fargate: 256–16384. @default 512 */
  cpu: withDefault(int(128, 196608), 512),
  /** MiB; on Fargate one of the values valid for `task.cpu`. @default 1024 */
  memory: withDefault(int(128, 1048576), 1024),
  /** CPU architecture the image is built for: `X86_64` or `ARM64` (Graviton). @default "X86_64" */
  cpuArchitecture: withDefault(z.enum(["X86_64", "ARM64"]), "X86_64"),
  /** Port the app listens on; a worker (a service without a route) has none. @default 8080 */
  containerPort: withDefault(int(1, 65535), 8080),
  /** The container's command, replacing the image's `CMD` and given to its entrypoint (the app image's is `node`), e.g. a worker's `["dist/worker.mjs"]`. @default the image's own */
  command: z.optional(
    z.readonly(
      z
        .array(z.string())
        .check(
          rule<string[]>(
            (c) => c.length > 0 && c.every((part) => part.length > 0),
            "empty, or an empty part",
            'an array of arguments to the image\'s entrypoint, e.g. ["dist/worker.mjs"] for the app image (its entrypoint is node)',
          ),
        ),
    ),
  ),
  /**
   * Plain environment variables (never secrets). The stack adds `PORT` (from `task.containerPort`) and, with the database, `DB_HOST`, `DB_PORT`,
   * `DB_NAME`.
   * @default { APP_ENV: "<name>" }
   */
  environment: z.optional(variables.check(variableNames)),
  /** Name → Secrets Manager secret ARN (optionally `:json-key::`) or SSM parameter ARN. @default {} */
  secrets: withDefault(
    variables.check(
      variableNames,
      z.superRefine((secrets, ctx) => {
        for (const [name, arn] of Object.entries(secrets))
          if (!SECRETS_MANAGER_ARN.test(arn) && !SSM_PARAMETER_ARN.test(arn))
            fail(
              ctx,
              [name],
              arn,
              "not the ARN of a Secrets Manager secret or an SSM parameter",
              "arn:aws:secretsmanager:<region>:<account>:secret:<name>[:<json-key>::] or arn:aws:ssm:<region>:<account>:parameter/<name>",
            );
      }),
    ),
    {},
  ),
  /**
   * Container health check, or `null` for none: `command` (a string runs in the image's shell, an array without one), and `intervalSeconds` (30),
   * `timeoutSeconds` (5), `retries` (3), `startPeriodSeconds` (10). The image must have the command's tools.
   * @default the app image's probe for a repository image; none for the placeholder or `image.uri`
   */
  healthCheck: z.optional(z.nullable(ContainerHealthCheckSchema)),
  /**
   * Seconds between SIGTERM and SIGKILL. A task behind the load balancer needs its drain (health check unhealthyThreshold × intervalSeconds +
   * timeoutSeconds, + 5 s for every load balancer node to act on it) + SHUTDOWN_TIMEOUT_MS + 2 s, checked at synth; at most 120, Fargate's limit and
   * Spot's warning. @default 45
   */
  stopTimeoutSeconds: withDefault(int(2, 120), 45),
  /** Read-only root; write to `task.scratchPath`. @default true */
  readonlyRootFilesystem: withDefault(flag, true),
  /** Writable scratch space: a tmpfs (world-writable with the sticky bit, no executables) the non-root user can write, with no init container. @default "/tmp" */
  scratchPath: withDefault(matching(/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/, "not an absolute path", 'an absolute path such as "/tmp"'), "/tmp"),
  /** MiB the scratch tmpfs may hold, taken from the task's memory as it fills; at most half of `task.memory`. @default 64 */
  scratchSizeMib: withDefault(int(1, 8192), 64),
  /** User the container runs as; `null` for the image's own `USER`. @default "1000:1000" */
  user: withDefault(
    z.nullable(matching(/^[A-Za-z0-9_-]+(:[A-Za-z0-9_-]+)?$/, "not a user or uid[:gid]", 'e.g. "1000:1000", or null for the image\'s USER')),
    "1000:1000",
  ),
  /** Days the app's logs are kept. @default 30 */
  logRetentionDays: withDefault(retention(), 30),
  /** Which image to run. @default the placeholder, until a tag is given */
  image: withDefault(ImageSettingsSchema, {}),
});
/** The recipe as written in an environment. */
export type TaskSettings = z.input<typeof TaskSettingsSchema>;
/** The same, checked, with every default applied (the stack fills `environment` with `APP_ENV`). */
export type TaskConfig = z.output<typeof TaskSettingsSchema> & { readonly environment: Readonly<Record<string, string>> };

/** Its region, the account its roles trust and its log group's key are the environment's (`EnvironmentContext`). */
export interface TaskDefinitionProps extends TaskConfig {
  /** `<project>-<environment>[-<key>]`: the family, and the start of its roles' and log group's names. */
  readonly name: string;
  /** Where the image comes from (`image.tag`, `image.digest`, the release); it grants the pull. */
  readonly repository: IRepository;
  /** A one-off tag that overrides `image.tag`; must agree with `release`. @default none */
  readonly imageTagOverride?: string;
  /** The environment's recorded release (`releases/<env>.json`). @default none */
  readonly release?: Release;
  /** Where tasks run: Fargate, or EC2 instances of the cluster. @default "FARGATE" */
  readonly compatibility?: "FARGATE" | "EC2";
  /**
   * The task serves HTTP on `containerPort` to the load balancer, whose health check path the
   * placeholder image answers.
   * @default none: a worker, with no port mapped and no PORT variable
   */
  readonly http?: { readonly healthCheckPath: string };
  /** What the task is given to use, e.g. `database.connection`: variables, secrets and their keys. @default [] */
  readonly connections?: readonly Connection[];
  /** Grant the task role what ECS Exec needs. @default false */
  readonly enableExecuteCommand?: boolean;
  /** A scheduled job's recipe: its task runs to completion, so the placeholder image exits 0 at once instead of idling. @default false */
  readonly job?: boolean;
  readonly execLogGroup?: CloudwatchLogGroup;
  /**
   * Trace the app (`tracing.enabled`): an ADOT collector sidecar of this CPU and memory inside the task's, the app's OTEL_ variables, and
   * the task role allowed to write traces (lib/compute/tracing.ts). @default none: no sidecar, nothing traced
   */
  readonly tracing?: { readonly cpu: number; readonly memoryMib: number; readonly sampleRatio: number };
}

export const CONTAINER_NAME = "app";
/**
 * The API task's container that migrates as the database's owner before the app starts (`node dist/migrate.mjs`,
 * the same image): not essential, and the app container waits for it to exit 0 (`dependsOn` `SUCCESS`, which
 * ECS allows only on a container that is not essential: "ContainerDependency", Amazon ECS API Reference,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html). It alone gets the
 * owner's login, through ECS `secrets` read by the execution role: an ECS task has one task role for all its
 * containers, so the separation cannot be the task role's.
 */
export const MIGRATE_CONTAINER_NAME = "migrate";

/**
 * The task definition, the recipe: image, CPU, memory, port, environment and secrets, with its
 * log group, an execution role (pull, log, read its secrets) and a task role for the app itself.
 */
export class TaskDefinition extends Construct {
  readonly taskDefinition: EcsTaskDefinition;
  readonly executionRole: ServiceRole;
  /** The app's own AWS permissions: empty; add statements with `taskRole.addStatements`. */
  readonly taskRole: ServiceRole;
  readonly logGroup: CloudwatchLogGroup;
  readonly image: ResolvedImage;
  /** The port the app serves on; none for a worker. */
  readonly containerPort?: number;
  readonly cpu: number;
  readonly memory: number;
  readonly cpuArchitecture: "X86_64" | "ARM64";

  get taskDefinitionArn(): string {
    return this.taskDefinition.arn;
  }

  constructor(scope: Construct, id: string, props: TaskDefinitionProps) {
    super(scope, id);
    const compatibility = props.compatibility ?? "FARGATE";
    this.cpu = props.cpu;
    this.memory = props.memory;
    this.cpuArchitecture = props.cpuArchitecture;
    this.containerPort = props.http ? props.containerPort : undefined;
    const stopTimeout = props.stopTimeoutSeconds;
    const readonlyRoot = props.readonlyRootFilesystem;
    const scratchPath = props.scratchPath;
    const user = props.user;
    // The settings schema holds the user's variables and secrets to their rules; what other constructs
    // wire in must not take a name the user already gave.
    const environment = { ...props.environment };
    const connections = props.connections ?? [];
    // The app listens where the load balancer sends traffic.
    const port = this.containerPort === undefined ? {} : { PORT: String(this.containerPort) };
    const wiredEnvironment: Record<string, string> = Object.assign(port, ...connections.map((c) => c.environment));
    if (props.tracing) Object.assign(wiredEnvironment, tracingEnvironment(props.name, props.tracing.sampleRatio));
    const wiredSecrets = connections.flatMap((c) => c.secrets);
    for (const [key, value] of Object.entries(wiredEnvironment)) {
      check(!(key in environment), `task.environment.${key}`, environment[key], "the stack sets this variable itself", "another name");
      environment[key] = value;
    }
    const secrets = [...userSecrets(props.secrets), ...wiredSecrets];
    const clash = wiredSecrets.find((s) => s.name in environment || secrets.filter((o) => o.name === s.name).length > 1);
    check(!clash, `task.secrets.${clash?.name}`, props.secrets[clash?.name ?? ""], "the stack sets this secret itself", "another name");
    // The owner's login goes to the migrate container of a task that serves (the API), never to the app's.
    this.image = resolveImage(props.image, props.imageTagOverride, props.release);
    const owners = props.http && this.image.kind !== "uri" ? connections.flatMap((c) => (c.owner ? [c.owner] : [])) : [];
    const ownerSecrets = owners.flatMap((o) => o.secrets);
    const ownerClash = ownerSecrets.find((s) => s.name in environment || secrets.some((o) => o.name === s.name));
    check(!ownerClash, `task.secrets.${ownerClash?.name}`, props.secrets[ownerClash?.name ?? ""], "the stack sets this secret itself", "another name");

    this.logGroup = logGroup(this, "LogGroup", {
      name: `/ecs/${props.name}`,
      retentionDays: props.logRetentionDays,
    });

    const { accountId, partition, region } = EnvironmentContext.of(this);
    const decryptKeys = [...connections.flatMap((c) => c.decryptKeyArns), ...owners.flatMap((o) => o.decryptKeyArns)];
    this.executionRole = new ServiceRole(this, "ExecutionRole", {
      name: `${props.name}-execution`,
      service: "ecs-tasks.amazonaws.com",
      // No confused-deputy condition: "Amazon ECS task execution IAM role",
      // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html, documents
      // this trust without one, and a condition on keys the service does not send would keep every task
      // from starting. What guards it is iam:PassRole: only this environment's deploy role and scheduler
      // may hand it over, to ECS tasks alone, and a role cannot be passed to another account.
      statements: executionStatements(props.repository, this.logGroup, [...secrets, ...ownerSecrets], decryptKeys, region),
    });
    this.taskRole = new ServiceRole(this, "TaskRole", {
      name: `${props.name}-task`,
      service: "ecs-tasks.amazonaws.com",
      // Confused deputy: "Amazon ECS task IAM role" (Create the task IAM role),
      // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html: aws:SourceAccount,
      // and aws:SourceArn for every ECS resource of the account and region (ECS cannot scope it to a cluster).
      trust: { sourceAccount: accountId, sourceArn: `arn:${partition}:ecs:${region}:${accountId}:*` },
    });
    grantTaskDefinitionDeploy(this, [...secrets, ...ownerSecrets], decryptKeys, region, Boolean(props.enableExecuteCommand));
    const taskStatements = connections.flatMap((c) => c.taskStatements ?? []);
    if (taskStatements.length) this.taskRole.addStatements("Connections", taskStatements);
    if (props.enableExecuteCommand) this.taskRole.addStatements("ExecuteCommand", execStatements(props.execLogGroup));
    if (props.tracing) {
      this.taskRole.addStatements("Traces", traceWriteStatements());
      allowTracesInBoundary(this);
    }

    // Only an image built from app/Dockerfile is known to carry the app's probe; the placeholder is
    // judged by the load balancer alone until the first release.
    // A worker's image may run without the HTTP server the probe asks.
    const healthCheckSettings =
      props.healthCheck === undefined
        ? this.image.kind === "repository" && props.http
          ? { command: APP_IMAGE_HEALTH_CHECK, startPeriodSeconds: 30 }
          : undefined
        : props.healthCheck;
    const healthCheck = healthCheckSettings ? containerHealthCheck(ContainerHealthCheckSchema.parse(healthCheckSettings)) : undefined;
    const logOptions = (prefix: string) => ({
      logDriver: "awslogs",
      options: {
        "awslogs-group": this.logGroup.name,
        "awslogs-region": region,
        "awslogs-stream-prefix": prefix,
        // A slow log pipe must not stall the app; logs are buffered instead.
        mode: "non-blocking",
        "max-buffer-size": "25m",
      },
    });
    // A tmpfs: Linux makes its root 1777 (anyone writes, only the owner deletes), so the non-root user
    // writes without a root init container opening a volume (Fargate mounts bind volumes owned by root).
    // noexec: nothing written there runs. Fargate supports tmpfs since January 2026, EC2 always has.
    const scratch = { containerPath: scratchPath, size: props.scratchSizeMib, mountOptions: ["noexec", "nosuid", "nodev"] };
    const container = {
      name: CONTAINER_NAME,
      image: this.image.kind === "repository" ? `${props.repository.repositoryUrl}${this.image.reference}` : this.image.uri,
      essential: true,
      ...(this.image.kind === "placeholder"
        ? {
            command: props.job
              ? ["sh", "-c", "echo 'placeholder image: no release yet, nothing to run'"]
              : placeholderCommand(scratchPath, props.http && { port: props.containerPort, healthCheckPath: props.http.healthCheckPath }),
          }
        : props.command
          ? { command: [...props.command] }
          : {}),
      ...(props.http
        ? { portMappings: [{ name: "http", containerPort: props.containerPort, hostPort: props.containerPort, protocol: "tcp", appProtocol: "http" }] }
        : {}),
      environment: Object.entries(environment)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, value]) => ({ name, value })),
      secrets: secrets.map(({ name, valueFrom }) => ({ name, valueFrom })),
      readonlyRootFilesystem: readonlyRoot,
      ...(user === null ? {} : { user }),
      linuxParameters: { initProcessEnabled: true, tmpfs: [scratch] },
      stopTimeout,
      ...(healthCheck ? { healthCheck } : {}),
      logConfiguration: logOptions(CONTAINER_NAME),
      ...(ownerSecrets.length ? { dependsOn: [{ containerName: MIGRATE_CONTAINER_NAME, condition: "SUCCESS" }] } : {}),
    };
    // The same image, environment, user and filesystem as the app; its command and the owner's login are its own.
    const migrate = ownerSecrets.length
      ? {
          ...container,
          name: MIGRATE_CONTAINER_NAME,
          essential: false,
          command: this.image.kind === "placeholder" ? ["sh", "-c", "echo 'placeholder image: no release yet, no migrations'"] : ["dist/migrate.mjs"],
          portMappings: undefined,
          healthCheck: undefined,
          dependsOn: undefined,
          secrets: [...container.secrets, ...ownerSecrets.map(({ name, valueFrom }) => ({ name, valueFrom }))],
          logConfiguration: logOptions(MIGRATE_CONTAINER_NAME),
        }
      : undefined;

    // Tracing: the collector beside the app, which waits for it to start (lib/compute/tracing.ts).
    const sidecars = props.tracing ? [collectorContainer(props.tracing, region, logOptions(COLLECTOR_CONTAINER_NAME), readonlyRoot)] : [];
    if (sidecars.length) {
      const after = (container as { dependsOn?: readonly unknown[] }).dependsOn ?? [];
      Object.assign(container, { dependsOn: [...after, { containerName: COLLECTOR_CONTAINER_NAME, condition: "START" }] });
    }

    this.taskDefinition = new EcsTaskDefinition(this, "TaskDefinition", {
      family: props.name,
      requiresCompatibilities: [compatibility],
      networkMode: "awsvpc",
      cpu: String(this.cpu),
      memory: String(this.memory),
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: this.cpuArchitecture },
      executionRoleArn: this.executionRole.arn,
      taskRoleArn: this.taskRole.arn,
      containerDefinitions: jsonString([container, ...sidecars, ...(migrate ? [migrate] : [])]),
    });
  }
}

function userSecrets(secrets: Readonly<Record<string, string>>): WiredSecret[] {
  return Object.entries(secrets).map(([name, arn]) => {
    // A JSON key selects part of a secret; IAM grants the secret itself.
    const sm = SECRETS_MANAGER_ARN.exec(arn);
    return { name, valueFrom: arn, resourceArn: sm ? sm[1] : arn };
  });
}

function executionStatements(
  repository: IRepository,
  group: CloudwatchLogGroup,
  secrets: readonly WiredSecret[],
  keys: readonly string[],
  region: string,
): Statement[] {
  const secretArns = secrets.filter((s) => !s.resourceArn.includes(":ssm:")).map((s) => s.resourceArn);
  const parameterArns = secrets.filter((s) => s.resourceArn.includes(":ssm:")).map((s) => s.resourceArn);
  return [
    ...repository.pullStatements(),
    { Sid: "Logs", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${group.arn}:*` },
    ...(secretArns.length ? [{ Sid: "Secrets", Action: "secretsmanager:GetSecretValue", Resource: unique(secretArns) }] : []),
    ...(parameterArns.length ? [{ Sid: "Parameters", Action: "ssm:GetParameters", Resource: unique(parameterArns) }] : []),
    ...(keys.length
      ? [
          {
            Sid: "Decrypt",
            Action: "kms:Decrypt",
            Resource: unique(keys),
            // Only to read those secrets: through Secrets Manager or Parameter Store, never a direct decrypt.
            Condition: { StringEquals: { "kms:ViaService": [`secretsmanager.${region}.amazonaws.com`, `ssm.${region}.amazonaws.com`] } },
          },
        ]
      : []),
  ];
}

/**
 * The environment's boundary for task roles (their pulls, logs, secrets and ECS Exec channels, by the
 * environment's names), and what the deploy role needs: register task definitions tagged, and hand
 * this environment's task roles to ECS tasks only.
 */
function grantTaskDefinitionDeploy(scope: Construct, secrets: readonly WiredSecret[], keys: readonly string[], region: string, exec: boolean): void {
  const boundary = PermissionsBoundary.of(scope);
  const deploy = DeployPermissions.of(scope);
  if (boundary) {
    const arn = (service: string, resource: string) => boundary.arnOf(service, resource);
    const prefix = boundary.prefix;
    const secretArns = secrets.filter((s) => !s.resourceArn.includes(":ssm:")).map((s) => s.boundaryArn ?? s.resourceArn);
    const parameterArns = secrets.filter((s) => s.resourceArn.includes(":ssm:")).map((s) => s.resourceArn);
    boundary.allow([
      { Sid: "EcrLogin", Action: "ecr:GetAuthorizationToken", Resource: "*" },
      {
        Sid: "EcrPull",
        Action: ECR_PULL_ACTIONS,
        Resource: arn("ecr", `repository/${prefix}`),
      },
      {
        Sid: "WriteLogs",
        Action: ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        Resource: [arn("logs", `log-group:/ecs/${prefix}:*`), arn("logs", `log-group:/ecs/${prefix}-*:*`), arn("logs", `log-group:/ecs/${prefix}/*`)],
      },
      ...(secretArns.length ? [{ Sid: "TaskSecrets", Action: "secretsmanager:GetSecretValue", Resource: unique(secretArns) }] : []),
      ...(parameterArns.length ? [{ Sid: "TaskParameters", Action: "ssm:GetParameters", Resource: unique(parameterArns) }] : []),
      ...(keys.length
        ? [
            {
              Sid: "TaskSecretKeys",
              Action: "kms:Decrypt",
              Resource: unique(keys),
              Condition: { StringEquals: { "kms:ViaService": [`secretsmanager.${region}.amazonaws.com`, `ssm.${region}.amazonaws.com`] } },
            },
          ]
        : []),
      // ECS Exec's session channels take no resource; its session logs go to /ecs/<prefix>/exec (above).
      ...(exec ? execStatements().filter((s) => s.Sid === "ExecChannels") : []),
      ...(exec ? [{ Sid: "ExecLogGroups", Action: "logs:DescribeLogGroups", Resource: "*" }] : []),
    ]);
  }
  if (!deploy) return;
  // A release registers a new revision of each recipe and retires the old one.
  const release = deploy.release(["aws_ecs_task_definition"], "revisions");
  release.service("EcsTaskDefinitions", {
    create: ["ecs:RegisterTaskDefinition", "ecs:TagResource"],
    manage: ["ecs:DeleteTaskDefinitions", "ecs:ListTagsForResource"],
    kind: TASK_DEFINITIONS,
    // Only the environment's families: a revision of another family would be a recipe the stack does not know.
    resources: environmentRevisions(deploy),
  });
  // A privileged container is root on an EC2 capacity instance, beyond what the task's roles allow and for as long as
  // the instance lives; Fargate refuses it anyway. RegisterTaskDefinition evaluates ecs:privileged (AWS's Service
  // Authorization Reference, "Actions, resources, and condition keys for Amazon Elastic Container Service").
  release.allow([
    { Sid: "DenyPrivilegedTasks", Effect: "Deny", Action: "ecs:RegisterTaskDefinition", Resource: "*", Condition: { Bool: { "ecs:privileged": "true" } } },
  ]);
  // Reading and retiring a revision take no resource and no condition key (AWS's Service Authorization Reference, "Actions,
  // resources, and condition keys for Amazon Elastic Container Service"): "*" only. Terraform retires the old revision on every
  // replacement, and `skip_destroy` would leave every revision behind on destroy, so the call stays (docs/security.md: what AWS cannot scope).
  release.allow([{ Sid: "EcsTaskDefinitionRevisions", Action: ["ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition"], Resource: "*" }]);
  release.passRole("EcsTasks", ["execution", "task", "*-execution", "*-task"], "ecs-tasks.amazonaws.com");
}

/**
 * Every revision of the environment's task definition families (`<prefix>`, the default API's, and
 * `<prefix>-<name>`, every other service's and job's): what a deploy grant may name, and no other environment's.
 */
export function environmentRevisions(deploy: DeployPermissions): string[] {
  return [deploy.arn("ecs", `task-definition/${deploy.prefix}:*`), deploy.arn("ecs", `task-definition/${deploy.prefix}-*:*`)];
}

function execStatements(group?: CloudwatchLogGroup): Statement[] {
  return [
    // The SSM session channels have no resource-level permissions; AWS requires "*".
    {
      Sid: "ExecChannels",
      Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
      Resource: "*",
    },
    ...(group
      ? [
          { Sid: "ExecLogGroups", Action: "logs:DescribeLogGroups", Resource: "*" },
          { Sid: "ExecLogs", Action: ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"], Resource: `${group.arn}:*` },
        ]
      : []),
  ];
}

function containerHealthCheck(hc: z.output<typeof ContainerHealthCheckSchema>) {
  const exec = typeof hc.command !== "string";
  return {
    command: exec ? ["CMD", ...hc.command] : ["CMD-SHELL", hc.command],
    interval: hc.intervalSeconds,
    timeout: hc.timeoutSeconds,
    retries: hc.retries,
    startPeriod: hc.startPeriodSeconds,
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
