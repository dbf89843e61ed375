import type { IConstruct } from "constructs";
import { TerraformStack } from "cdktf";
import { partitionOf } from "./policy";

/** `<project>-<environment>`, the start of every resource name of an environment. */
export function prefixOf(project: string, environment: string): string {
  return `${project}-${environment}`;
}

/** `admin` → `Admin`: a keyed construct's key at the start of its construct ids, alarm ids and Sids. */
export function pascal(key: string): string {
  return key[0].toUpperCase() + key.slice(1);
}

export interface EnvironmentContextProps {
  readonly project: string;
  /** The environment's name: its `Environment` tag and the second part of the prefix. */
  readonly environment: string;
  readonly region: string;
  /** The account, or a token of the caller identity read at plan time. */
  readonly accountId: string;
  /** A production environment: its deploy role may not delete what holds data. @default false */
  readonly production?: boolean;
  /** The user's tags; the context adds `Project`, `Environment` and `ManagedBy` after them. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Whether the stack collects what deploying it calls (it has CI access): then `DeployPermissions.of`
   * asked before the stack made them is an error naming the construct, never a silent "nothing to grant".
   * @default false
   */
  readonly collectsDeployPermissions?: boolean;
}

const contexts = new WeakMap<TerraformStack, EnvironmentContext>();

/**
 * What every construct of one environment shares, found from any construct of its stack as aws-cdk's
 * `Stack.of(this)`: its names' prefix, region, account, partition and tags, as plain data. The stack makes
 * it first, before the key (`EncryptionKey.of`), the boundary and the deploy permissions, and before its
 * constructs, so none of them is handed these by the stack one prop at a time.
 */
export class EnvironmentContext {
  /** The context of the stack `scope` belongs to; throws when there is no stack, or the stack made none. */
  static of(scope: IConstruct): EnvironmentContext {
    const stack = stackOf(scope);
    const context = contexts.get(stack);
    if (!context)
      throw new Error(
        `${scope.node.path}: stack ${stack.node.path} has no environment context; make one with new EnvironmentContext(stack, ...) before its constructs`,
      );
    return context;
  }

  readonly project: string;
  readonly environment: string;
  /** `<project>-<environment>`: every resource name starts with it. */
  readonly prefix: string;
  readonly region: string;
  readonly accountId: string;
  /** `aws`, `aws-cn` or `aws-us-gov`, from the region. */
  readonly partition: string;
  readonly production: boolean;
  /** Every resource's tags (the provider's default tags); the EC2 instances and volumes get them too, which default tags do not reach. */
  readonly tags: Readonly<Record<string, string>>;
  /** See `EnvironmentContextProps.collectsDeployPermissions`. */
  readonly collectsDeployPermissions: boolean;

  constructor(stack: TerraformStack, props: EnvironmentContextProps) {
    if (contexts.has(stack)) throw new Error(`${stack.node.path}: the stack already has an environment context`);
    contexts.set(stack, this);
    this.project = props.project;
    this.environment = props.environment;
    this.prefix = prefixOf(props.project, props.environment);
    this.region = props.region;
    this.accountId = props.accountId;
    this.partition = partitionOf(props.region);
    this.production = props.production ?? false;
    this.tags = { ...props.tags, Project: props.project, Environment: props.environment, ManagedBy: "cdktf" };
    this.collectsDeployPermissions = props.collectsDeployPermissions ?? false;
  }

  /** `arn:<partition>:<service>:<region>:<account>:<resource>`; region and account may be "" (IAM, S3). */
  arn(service: string, resource: string, region: string = this.region, account: string = this.accountId): string {
    return `arn:${this.partition}:${service}:${region}:${account}:${resource}`;
  }
}

function stackOf(scope: IConstruct): TerraformStack {
  try {
    return TerraformStack.of(scope);
  } catch {
    throw new Error(`${scope.node.path || "the app"}: not in a stack, so it has no environment context; build it inside the environment's TerraformStack`);
  }
}
