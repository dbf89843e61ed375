import type { AutoscalingSettings } from "../lib/autoscaling";
import type { CiSettings } from "../lib/ci-access";
import type { ClusterSettings } from "../lib/cluster";
import type { DatabaseSettings } from "../lib/database";
import type { Ec2Settings } from "../lib/ec2-capacity";
import type { LoadBalancerSettings } from "../lib/load-balancer";
import type { NetworkSettings } from "../lib/network";
import type { RegistrySettings } from "../lib/registry";
import type { ServiceSettings } from "../lib/service";
import type { Release } from "../lib/release";
import type { TaskSettings } from "../lib/task-definition";

/**
 * Where Terraform keeps this environment's state.
 * - `local` (default): `terraform.<environment>.tfstate` in the project folder. Fine for a sandbox.
 * - `s3`: an existing bucket, encrypted, locked with S3-native lock files (Terraform >= 1.10).
 */
export type StateSettings =
  | { readonly backend: "local" }
  | {
      readonly backend: "s3";
      /** Existing bucket that holds the state. */
      readonly bucket: string;
      /** Object key. @default "<project>/<environment>/terraform.tfstate" */
      readonly key?: string;
      /** Bucket region. @default the environment's region */
      readonly region?: string;
      /** KMS key for the state object. @default SSE-S3 */
      readonly kmsKeyId?: string;
    };

/**
 * Everything that differs between environments. JSON-serializable on purpose: it is data, and a
 * forker can diff dev against prod at a glance. Every field but `name` has a default.
 */
export interface EnvironmentSettings {
  /** Environment name: the stack's name and part of every resource name. */
  readonly name: string;
  /** First part of every resource name (`<project>-<name>`). @default "rest-api" */
  readonly project?: string;
  /** AWS region. @default "us-east-1" */
  readonly region?: string;
  /** 2–6 zones, named so synth needs no lookup. @default ["<region>a", "<region>b"] */
  readonly availabilityZones?: readonly string[];
  /** Extra tags on every resource, beside Project, Environment, ManagedBy. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Where Terraform keeps the state: `{ backend: "local" }`, or `{ backend: "s3", bucket, key?, region?, kmsKeyId? }` (key defaults to
   * `<project>/<name>/terraform.tfstate`).
   * @default { backend: "local" }
   */
  readonly state?: StateSettings;
  /** VPC, subnets, NAT and flow logs. */
  readonly network?: NetworkSettings;
  /** The ECR repository the image comes from. */
  readonly registry?: RegistrySettings;
  /** The ECS cluster and its Fargate/Spot capacity. */
  readonly cluster?: ClusterSettings;
  /** The task definition: the recipe each task runs. */
  readonly task?: TaskSettings;
  /** The service that keeps N tasks running behind the load balancer. */
  readonly service?: ServiceSettings;
  /** How the service's task count follows load. */
  readonly autoscaling?: AutoscalingSettings;
  /** The Application Load Balancer in front of the tasks. */
  readonly loadBalancer?: LoadBalancerSettings;
  /** PostgreSQL on RDS, wired into the app; `enabled: false` leaves it out. */
  readonly database?: DatabaseSettings;
  /** Fargate or EC2 execution mode. */
  readonly compute?: ComputeSettings;
  /** GitHub Actions access: an OIDC provider and a deploy role for one repository. @default none (no CI access) */
  readonly ci?: CiSettings;
}

/**
 * Where tasks run: the chapter's big decision.
 * - `fargate` (default): AWS runs the servers; you pay per task.
 * - `ec2`: your Auto Scaling group of ECS-optimized instances; more control and effort, and cheaper
 *   at large, steady scale.
 */
export interface ComputeSettings {
  /** Where tasks run: `fargate` or `ec2` (see Fargate or EC2). @default "fargate" */
  readonly mode?: "fargate" | "ec2";
  /** Instances for `ec2` mode; ignored on Fargate. */
  readonly ec2?: Ec2Settings;
}

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
   * It must agree with `release`. The shell's IMAGE_TAG never lands here: main.ts records it into the release file first (stacks/releases.ts).
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
   * Deploy to a local AWS API emulator at this loopback URL instead of AWS: every endpoint points at it, dummy credentials, a state file of its own
   * (see stacks/emulator.ts). Set with `AWS_EMULATOR_URL=http://127.0.0.1:<port>`; `npm run emulator` does it for you.
   * @default none (real AWS)
   */
  readonly emulatorUrl?: string;
}

export function runOptionsFromEnv(env: NodeJS.ProcessEnv): RunOptions {
  return {
    offline: ["1", "true", "yes"].includes((env.OFFLINE ?? "").toLowerCase()),
    emulatorUrl: env.AWS_EMULATOR_URL || undefined,
  };
}
