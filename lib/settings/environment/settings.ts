import * as z from "zod/mini";
import { AccountIdSchema } from "../../core/account-guard";
import { AlarmSettingsSchema } from "../../observability/alarms";
import { AutoscalingSettingsSchema } from "../../compute/autoscaling";
import { BudgetSettingsSchema } from "../../observability/budget";
import { CiSettingsSchema } from "../../ci/ci-access";
import { ClusterSettingsSchema } from "../../compute/cluster";
import { DatabaseSettingsSchema } from "../../database/database";
import { Ec2SettingsSchema } from "../../compute/ec2/ec2-capacity";
import { JobSettingsSchema } from "../../workers/job";
import { QueueSettingsSchema } from "../../workers/queue";
import { EncryptionSettingsSchema } from "../../core/encryption-key";
import { LoadBalancerSettingsSchema } from "../../edge/load-balancer";
import { NetworkSettingsSchema } from "../../network/network";
import { RegistrySettingsSchema } from "../../registry/registry";
import { ServiceSettingsSchema } from "../../compute/service";
import { RouteSettingsSchema } from "../../edge/target-group";
import { TaskSettingsSchema } from "../../compute/task-definition";
import { TracingSettingsSchema } from "../../compute/tracing";
import { WafSettingsSchema } from "../../edge/web-acl";
import type { Release } from "../../registry/release";
import { fail, flag, listed, matching, names, rule, section, variables, withDefault } from "../rules";
import { REGIONS } from "../data/regions";
import { prefixOf } from "../../core/environment";
import type { ExtraSections } from "../sections";
import type { DeploymentTarget } from "../../core/deployment-target";

/** The project of an environment that names none. */
export const DEFAULT_PROJECT = "rest-api";

/** `<project>-<name>`, the start of every resource name of an environment, from its settings as written. */
export function resourcePrefix(settings: { readonly project?: string; readonly name: string }): string {
  return prefixOf(settings.project ?? DEFAULT_PROJECT, settings.name);
}

/** Tags the stack sets on every resource itself. */
export const STACK_TAGS = ["Project", "Environment", "ManagedBy"];
/** Tags constructs set on some resources of their own (subnets carry both). */
const RESOURCE_TAGS = ["Name", "Tier"];
/** User tags a resource may carry: AWS allows 50, and the stack's and the constructs' own come first. */
export const MAX_TAGS = 50 - STACK_TAGS.length - RESOURCE_TAGS.length;
/** EC2 (the VPC, subnets, instances) takes tag keys of at most 127 characters, one fewer than other services. */
const MAX_TAG_KEY = 127;
/** The characters IAM takes in tag keys and values (IAM API `Tag`); every role carries the environment's tags. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const NAME = /^[a-z][a-z0-9-]*[a-z0-9]$/;
/** Part of every resource name, so short and plain. */
const shortName = (max: number) =>
  z
    .string()
    .check(
      rule<string>(
        (v) => NAME.test(v) && v.length <= max,
        "not a short lowercase name",
        `2 to ${max} lowercase letters, digits and hyphens, starting with a letter`,
      ),
    );
const region = listed(REGIONS, "AWS region", "lib/settings/data/regions.ts");
/** Names S3 gives no bucket (S3 user guide, "General purpose bucket naming rules"): reserved prefixes and suffixes, and IP addresses. */
const S3_RESERVED_BUCKET = /^(sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$|^\d+\.\d+\.\d+\.\d+$/;
const KMS_KEY_ID = "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})";
const KMS_ALIAS = "alias/[A-Za-z0-9/_-]+";
/** What Terraform's S3 backend takes as `kms_key_id`: a key id, an alias, or the ARN of either. */
const KMS_KEY = new RegExp(`^(${KMS_KEY_ID}|${KMS_ALIAS}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:(key/${KMS_KEY_ID}|${KMS_ALIAS}))$`);

/**
 * Where Terraform keeps this environment's state.
 * - `local` (default): `terraform.<environment>.tfstate` in the project folder. Fine for a sandbox.
 * - `s3`: an existing bucket, encrypted, locked with S3-native lock files (Terraform >= 1.10).
 */
export const StateSettingsSchema = z.discriminatedUnion("backend", [
  z.strictObject({ backend: z.literal("local") }),
  z.strictObject({
    backend: z.literal("s3"),
    /** Existing bucket that holds the state. */
    bucket: matching(
      /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      "not an S3 bucket name",
      "an existing bucket's name: 3-63 lowercase letters, digits, dots and hyphens",
    ).check(
      rule<string>(
        (v) => !S3_RESERVED_BUCKET.test(v),
        "a name S3 reserves (a prefix such as sthree-, a suffix such as -s3alias, or an IP address), which no bucket has",
        "an existing bucket's name",
      ),
    ),
    /** Object key. @default "<project>/<environment>/terraform.tfstate" */
    key: z.optional(matching(/^[^/](.{0,1022}[^/])?$/, "not an object key", 'a path such as "rest-api/dev/terraform.tfstate", not starting or ending with /')),
    /** Bucket region. @default the environment's region */
    region: z.optional(region),
    /** KMS key for the state object: its ARN (which the CI role is granted), key id or alias. @default SSE-S3 */
    kmsKeyId: z.optional(
      matching(
        KMS_KEY,
        "not a KMS key ARN, key id or alias, which Terraform's S3 backend refuses",
        'e.g. "arn:aws:kms:<region>:<account>:key/<id>" or "alias/<name>"',
      ),
    ),
  }),
]);
export type StateSettings = z.input<typeof StateSettingsSchema>;

/**
 * Where tasks run: the chapter's big decision.
 * - `fargate` (default): AWS runs the servers; you pay per task.
 * - `ec2`: your Auto Scaling group of ECS-optimized instances; more control and effort, and cheaper
 *   at large, steady scale.
 */
export const ComputeSettingsSchema = z.strictObject({
  /** Where tasks run: `fargate` or `ec2` (see Fargate or EC2). @default "fargate" */
  mode: withDefault(z.enum(["fargate", "ec2"]), "fargate"),
  /** Instances for `ec2` mode; ignored on Fargate. */
  ec2: section(Ec2SettingsSchema),
});

/**
 * A service beside the default API: a second API on its own paths or hosts, or a worker. It runs its
 * own task definition, roles, log group, security group and scaling; its names are
 * `<project>-<environment>-<key>`.
 */
export const ExtraServiceSettingsSchema = z.strictObject({
  /** The listener rule that sends it requests (`pathPatterns` and/or `hostHeaders`, `priority`, `healthCheck`); leave out for a worker, which has no port and no target group. @default none (a worker) */
  route: z.optional(RouteSettingsSchema),
  /** Its task definition, the same fields as `task`: `cpu` and `memory` (together, when it sets neither), `cpuArchitecture` and `logRetentionDays` default to the environment's `task`, the rest to `task`'s defaults. @default as `task` */
  task: section(TaskSettingsSchema),
  /** Its ECS service: the same fields and defaults as `service`. @default as `service` */
  service: section(ServiceSettingsSchema),
  /** Its scaling: the same fields and defaults as `autoscaling`; a worker scales on CPU and memory only. @default as `autoscaling` */
  autoscaling: section(AutoscalingSettingsSchema),
  /** Give it the database's connection (variables, secret, network access); the default API always has it. @default false */
  database: withDefault(flag, false),
  /** A queue it owns and consumes, with a dead-letter queue, backlog scaling and alarms; a worker only (no route). @default none */
  queue: z.optional(QueueSettingsSchema),
});
export type ExtraServiceSettings = z.input<typeof ExtraServiceSettingsSchema>;

/** A service's key: short, as it ends every one of its resource names. */
export const SERVICE_KEY = /^[a-z][a-z0-9]{0,11}$/;

/**
 * Everything that differs between environments. JSON-serializable on purpose: it is data, and a
 * forker can diff dev against prod at a glance. Every field but `name` has a default.
 */
export const EnvironmentSettingsSchema = z.strictObject({
  /** Environment name: the stack's name and part of every resource name. */
  name: shortName(16),
  /** First part of every resource name (`<project>-<name>`). @default "rest-api" */
  project: withDefault(shortName(24), DEFAULT_PROJECT),
  /** A production environment: it must serve HTTPS only, so `loadBalancer.https` is required. @default false */
  production: withDefault(flag, false),
  /** AWS region. @default "us-east-1" */
  region: withDefault(region, "us-east-1"),
  /**
   * The AWS account this environment deploys to (12 digits): the provider's `allowed_account_ids`, so a plan or apply with another account's
   * credentials stops before any change. One of AWS's documentation accounts (e.g. 111122223333) marks an example any plan against AWS refuses.
   * @default none: no guard (synth warns in a production environment)
   */
  accountId: z.optional(AccountIdSchema),
  /** 2–6 zones, named so synth needs no lookup. @default ["<region>a", "<region>b"] */
  availabilityZones: z.optional(names),
  /**
   * Extra tags on every resource, beside Project, Environment, ManagedBy: at most 45, keys of 1–127 and values of up to 256 letters, digits,
   * spaces and `_ . : / = + - @`, neither starting with `aws:`.
   * @default {}
   */
  tags: withDefault(
    variables.check(
      z.superRefine((tags, ctx) => {
        const keys = Object.keys(tags);
        for (const [key, value] of Object.entries(tags)) {
          const stackKey = STACK_TAGS.find((k) => k.toLowerCase() === key.toLowerCase());
          if (key.length < 1 || key.length > MAX_TAG_KEY || key.toLowerCase().startsWith("aws:") || value.length > 256)
            fail(
              ctx,
              [],
              { [key]: value },
              "not a valid AWS tag",
              `keys of 1-${MAX_TAG_KEY} characters (EC2's limit) not starting with "aws:", values of at most 256 characters`,
            );
          else if (value.toLowerCase().startsWith("aws:"))
            fail(ctx, [], { [key]: value }, 'a value starting with "aws:", which AWS reserves and IAM refuses', 'a value not starting with "aws:"');
          else if (!TAG_TEXT.test(key) || !TAG_TEXT.test(value))
            fail(
              ctx,
              [],
              { [key]: value },
              "a character IAM refuses in a tag (every role of the environment carries its tags)",
              "letters, digits, spaces and _ . : / = + - @",
            );
          else if (STACK_TAGS.includes(key)) fail(ctx, [], { [key]: value }, `"${key}" is set by the stack from project and name`, "any other key");
          else if (stackKey !== undefined)
            fail(
              ctx,
              [],
              { [key]: value },
              `"${key}" differs from the stack's "${stackKey}" only in case, and IAM holds a role's tag keys without case`,
              "any other key",
            );
          else {
            const twin = keys.find((other) => other !== key && other.toLowerCase() === key.toLowerCase());
            if (twin !== undefined && keys.indexOf(twin) > keys.indexOf(key))
              fail(
                ctx,
                [],
                { [key]: value, [twin]: tags[twin] },
                `"${key}" and "${twin}" differ only in case, and IAM holds a role's tag keys without case`,
                "keys that differ by more than case",
              );
          }
        }
        if (keys.length > MAX_TAGS)
          fail(
            ctx,
            [],
            keys,
            `${keys.length} tags; with the stack's ${STACK_TAGS.join(", ")} and the ${RESOURCE_TAGS.join(" and ")} some resources carry, they pass AWS's 50 tags per resource`,
            `at most ${MAX_TAGS} tags`,
          );
      }),
    ),
    {},
  ),
  /**
   * Where Terraform keeps the state: `{ backend: "local" }`, or `{ backend: "s3", bucket, key?, region?, kmsKeyId? }` (key defaults to
   * `<project>/<name>/terraform.tfstate`).
   * @default { backend: "local" }
   */
  state: withDefault(StateSettingsSchema, { backend: "local" }),
  /** The environment's KMS key, which encrypts every log group and the alarm topic. */
  encryption: section(EncryptionSettingsSchema),
  /** VPC, subnets, NAT and flow logs. */
  network: section(NetworkSettingsSchema),
  /** The ECR repository the image comes from. */
  registry: section(RegistrySettingsSchema),
  /** The ECS cluster and its Fargate/Spot capacity. */
  cluster: section(ClusterSettingsSchema),
  /** The task definition: the recipe each task of the default API runs. */
  task: section(TaskSettingsSchema),
  /** The service that keeps N tasks of the default API running behind the load balancer. */
  service: section(ServiceSettingsSchema),
  /** How the default API's task count follows load. */
  autoscaling: section(AutoscalingSettingsSchema),
  /** The Application Load Balancer in front of the tasks. */
  loadBalancer: section(LoadBalancerSettingsSchema),
  /** AWS WAF in front of the load balancer. */
  waf: section(WafSettingsSchema),
  /** PostgreSQL on RDS, wired into the app; `enabled: false` leaves it out. */
  database: section(DatabaseSettingsSchema),
  /** Fargate or EC2 execution mode. */
  compute: section(ComputeSettingsSchema),
  /** Alarms on the load balancer, each service and the database, reporting to an encrypted SNS topic. */
  alarms: section(AlarmSettingsSchema),
  /** What the environment may cost a month: an AWS Budgets budget alerting the alarm topic, and the ceiling `npm run cost` and synth check. */
  budget: section(BudgetSettingsSchema),
  /** Traces of the API and its workers into AWS X-Ray, through an OpenTelemetry collector sidecar in each service's task. */
  tracing: section(TracingSettingsSchema),
  /** More services, by key (1-12 lowercase letters and digits): `{ worker: {}, admin: { route: { pathPatterns: ["/admin/*"] } } }`. @default {} */
  services: withDefault(
    z.readonly(
      z.record(
        z.string().check(rule<string>((key) => SERVICE_KEY.test(key), "not a service key", "1 to 12 lowercase letters and digits, starting with a letter")),
        ExtraServiceSettingsSchema,
      ),
    ),
    {},
  ),
  /** Scheduled jobs, by key (as services'): `{ housekeeping: { schedule: "cron(0 3 * * ? *)", task: { command: ["dist/housekeeping.mjs"] } } }`. @default {} */
  jobs: withDefault(
    z.readonly(
      z.record(
        z.string().check(rule<string>((key) => SERVICE_KEY.test(key), "not a job key", "1 to 12 lowercase letters and digits, starting with a letter")),
        JobSettingsSchema,
      ),
    ),
    {},
  ),
  /** GitHub Actions access: an OIDC provider and a deploy role for one repository. @default none (no CI access) */
  ci: z.optional(CiSettingsSchema),
});
/** One environment's settings, as written in environments/environments.ts: every field but `name` may be left out. */
/** An environment as written: the shipped sections, and those a fork's constructs add (`ExtraSections`, lib/settings/sections.ts). */
export type EnvironmentSettings = z.input<typeof EnvironmentSettingsSchema> & ExtraSections;

/** Switches read from the process environment, kept apart from the settings so tests pass them in. */
export interface RunOptions {
  /**
   * No AWS API calls at all: skip credential, account and metadata checks, use dummy keys and a throwaway local state. For `terraform plan` without
   * an account. Set with `OFFLINE=1`.
   * @default false
   */
  readonly offline?: boolean;
  /**
   * A one-off image tag from the stack's repository, overriding `task.image.tag`, for code that builds stacks itself (tests, the emulator harness).
   * It must agree with `release`. The shell's IMAGE_TAG never lands here: main.ts records it into the release file first (lib/settings/environment/releases.ts).
   * @default none
   */
  readonly imageTag?: string;
  /**
   * The environment's recorded release, `releases/<env>.json`, which main.ts reads for every synth so that a deploy keeps the running release unless
   * it is given a new one.
   * @default none: `task.image.tag`, `task.image.uri` or the placeholder
   */
  readonly release?: Release;
  /**
   * Where the stack is deployed when not to AWS: a stand-in the caller gives it, such as the local emulator (`emulatorTarget(url)` of
   * emulator/mode.ts, which main.ts makes from `AWS_EMULATOR_URL`). `offline` is the built-in one.
   * @default AWS (lib/core/deployment-target.ts)
   */
  readonly target?: DeploymentTarget;
  /**
   * Make the plan of a stack whose `loadBalancer.https.domainName` is a reserved example (example.com, .test, …), or whose `accountId` is one of
   * AWS's documentation accounts, fail before it creates anything. Synth cannot refuse it: cdktf synthesizes every stack for any command, and dev
   * must deploy while prod still shows the examples.
   * @default true for AWS; false offline and on the emulator, where no domain is served and no real account is asked
   */
  readonly guardExampleDomains?: boolean;
}

/** What the shell asks of a synth: `OFFLINE=1`. (main.ts adds the emulator target for `AWS_EMULATOR_URL`, emulator/mode.ts.) */
export function runOptionsFromEnv(env: NodeJS.ProcessEnv): RunOptions {
  return {
    offline: ["1", "true", "yes"].includes((env.OFFLINE ?? "").toLowerCase()),
  };
}
