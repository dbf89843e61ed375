import type { IConstruct } from "constructs";
import { TerraformStack } from "cdktf";
import { type Condition, mergeStatement, type Statement } from "./iam";
import { EnvironmentContext } from "./environment";

/** The environment as the deploy permissions read it (from its `EnvironmentContext`). */
export interface DeployPermissionsProps {
  readonly project: string;
  /** The environment's name, its `Environment` tag. */
  readonly environment: string;
  /** `<project>-<environment>`, the start of every resource name. */
  readonly prefix: string;
  readonly region: string;
  readonly accountId: string;
  /** A production environment's deploy role may not delete what holds data (keys, the database, the repository, logs). */
  readonly production: boolean;
}

/** What a construct's resources need of the deploy role, by kind of call (see `DeployPermissions.service`). */
export interface ServiceGrant {
  /** Reads and lists, most of which AWS allows on `*` only; never a read of data (secret values, objects, log events). */
  readonly read?: readonly string[];
  /** Calls that create a resource, allowed only with the environment's `Project` and `Environment` tags in the request. */
  readonly create?: readonly string[];
  /** Calls on existing resources, allowed only on resources tagged with this environment (the parents a create names, too). */
  readonly manage?: readonly string[];
  /** Deletions of what holds data: as `manage`, and left out of a production environment's role. */
  readonly destroy?: readonly string[];
  /** Resources of `create`, `manage` and `destroy`, where ARN patterns narrow them further. @default "*" */
  readonly resources?: readonly string[];
}

const permissions = new WeakMap<TerraformStack, DeployPermissions>();

/**
 * What the CI deploy role may do, contributed by each construct where it is written, as aws-cdk's
 * grants: a construct that creates a kind of resource adds the calls Terraform makes for it
 * (`service`, `allow`). Nothing is collected in a stack without CI access. The CI role
 * (lib/ci/ci-access.ts) adds what no construct owns: IAM with the boundary, the state, its own limits.
 *
 * Scoping, wherever AWS supports it: reads in the region; creates only with this environment's tags in
 * the request (`aws:RequestTag`); everything else only on resources tagged with this environment
 * (`aws:ResourceTag`); names under `<project>-<environment>` where a service has no tags to check.
 */
/** What deploying an EventBridge rule with its targets takes (a construct adds the rule's ARN). */
export const EVENT_RULE_GRANT: Omit<ServiceGrant, "resources"> = {
  create: ["events:PutRule", "events:TagResource"],
  manage: [
    "events:DeleteRule",
    "events:DescribeRule",
    "events:ListTagsForResource",
    "events:ListTargetsByRule",
    "events:PutRule",
    "events:PutTargets",
    "events:RemoveTargets",
    "events:TagResource",
    "events:UntagResource",
  ],
};

export class DeployPermissions {
  /** The deploy permissions of the stack `scope` belongs to, when the stack has CI access. */
  static of(scope: IConstruct): DeployPermissions | undefined {
    return permissions.get(TerraformStack.of(scope));
  }

  readonly partition: string;
  private readonly list: Statement[] = [];
  private readonly linkedServices = new Set<string>();
  private readonly managedPolicies = new Set<string>();

  readonly props: DeployPermissionsProps;

  /** Made by a stack with CI access, after its `EnvironmentContext`, before the constructs that contribute. */
  constructor(stack: TerraformStack) {
    if (permissions.has(stack)) throw new Error(`${stack.node.path}: the stack already has deploy permissions`);
    const { project, environment, prefix, region, accountId, production, partition } = EnvironmentContext.of(stack);
    permissions.set(stack, this);
    this.props = { project, environment, prefix, region, accountId, production };
    this.partition = partition;
  }

  get prefix(): string {
    return this.props.prefix;
  }

  get region(): string {
    return this.props.region;
  }

  get accountId(): string {
    return this.props.accountId;
  }

  /** The statements contributed so far, merged by Sid. */
  get statements(): readonly Statement[] {
    if (!this.linkedServices.size) return this.list;
    const services = [...this.linkedServices].sort();
    return [
      ...this.list,
      {
        Sid: "ServiceLinkedRoles",
        Action: "iam:CreateServiceLinkedRole",
        Resource: "*",
        Condition: { StringEquals: { "iam:AWSServiceName": services.length === 1 ? services[0] : services } },
      },
    ];
  }

  /** On resources tagged with this environment (and project). */
  get ownResource(): Condition {
    return { StringEquals: { "aws:ResourceTag/Project": this.props.project, "aws:ResourceTag/Environment": this.props.environment } };
  }

  /** A request that tags what it creates with this environment (and project). */
  get taggedRequest(): Condition {
    return { StringEquals: { "aws:RequestTag/Project": this.props.project, "aws:RequestTag/Environment": this.props.environment } };
  }

  /** `arn:<partition>:<service>:<region>:<account>:<resource>`; region and account may be "" (IAM, S3). */
  arn(service: string, resource: string, region: string = this.region, account: string = this.accountId): string {
    return `arn:${this.partition}:${service}:${region}:${account}:${resource}`;
  }

  /** Adds statements as written, merged by Sid with other constructs'. */
  allow(statements: readonly Statement[]): void {
    for (const statement of statements) mergeStatement(this.list, statement, `deploy permissions of ${this.prefix}`);
  }

  /**
   * One service's calls, Sids `<name>Read`, `<name>Create`, `<name>Manage`: reads on `*`, creates with
   * the environment's tags in the request, the rest on the environment's tagged resources. A production
   * environment gets no `destroy` calls.
   */
  service(name: string, grant: ServiceGrant): void {
    const resources = !grant.resources?.length ? "*" : grant.resources.length === 1 ? grant.resources[0] : [...grant.resources];
    const manage = [...(grant.manage ?? []), ...(this.props.production ? [] : (grant.destroy ?? []))];
    const statements: Statement[] = [];
    if (grant.read?.length) statements.push({ Sid: `${name}Read`, Action: [...grant.read], Resource: "*" });
    if (grant.create?.length) statements.push({ Sid: `${name}Create`, Action: [...grant.create], Resource: resources, Condition: this.taggedRequest });
    if (manage.length) statements.push({ Sid: `${name}Manage`, Action: manage, Resource: resources, Condition: this.ownResource });
    this.allow(statements);
  }

  /**
   * `iam:PassRole` on this environment's roles named `<prefix>-<suffix>` (patterns allowed), to `service`
   * only: a role handed to another service, or another role, is refused.
   */
  passRole(name: string, suffixes: readonly string[], service: string): void {
    this.allow([
      {
        Sid: `PassRoleTo${name}`,
        Action: "iam:PassRole",
        Resource: suffixes.map((suffix) => this.arn("iam", `role/${this.prefix}-${suffix}`, "")),
        Condition: { StringEquals: { "iam:PassedToService": service } },
      },
    ]);
  }

  /**
   * AWS-managed policies (`service-role/AmazonRDSEnhancedMonitoringRole`) the deploy role may attach to
   * this environment's roles; no other policy can be attached (AdministratorAccess would be an escalation).
   */
  attachPolicies(names: readonly string[]): void {
    for (const name of names) this.managedPolicies.add(`arn:${this.partition}:iam::aws:policy/${name}`);
  }

  /** The ARNs `attachPolicies` allowed. */
  get attachablePolicies(): readonly string[] {
    return [...this.managedPolicies].sort();
  }

  /** The services whose service-linked roles the stack's first deploy in an account may create. */
  serviceLinkedRole(service: string): void {
    this.linkedServices.add(service);
  }
}
