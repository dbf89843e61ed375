import type { IConstruct } from "constructs";
import { TerraformStack } from "cdktf";
import { type Condition, mergeStatement, type Statement } from "./policy";
import { EnvironmentContext } from "./environment";
import type { ResourceKind } from "./resource-kind";

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
  /** The kind of resource these calls deploy: its tag calls are declared (`DeployPermissions.kind`), so the CI role's denies cover them. */
  readonly kind?: ResourceKind;
}

const permissions = new WeakMap<TerraformStack, DeployPermissions>();

/**
 * How a release may change a resource type: `updates`, in place only (a service, a schedule, an alarm:
 * creating or deleting one is the administrator's, so a release leaves nothing running that the stack does
 * not know); `revisions`, made anew each release with the old retired (task definitions).
 */
export type ReleaseChanges = "updates" | "revisions";

/**
 * A call that only reads a resource's configuration, by AWS's naming (its Read and List access levels):
 * what Terraform's refresh of every resource needs, so the release role gets these of every grant. A
 * wildcard only after Describe, List or S3's GetBucket: `Get*` would take in the data reads (`s3:GetObject`).
 * __tests__/iam/release-reads.test.ts holds each to AWS's access level of the call.
 */
export const CONFIGURATION_READ = /^[a-z0-9-]+:((Describe|List|GetBucket)[A-Za-z*]*|(Get|View)[A-Za-z]*)$/;
/** Reads of data rather than configuration, which no refresh needs: never handed to the release role by a grant of the rest. */
export const DATA_READ =
  /^(secretsmanager:GetSecretValue|s3:GetObject[A-Za-z]*|logs:(GetLogEvents|FilterLogEvents|GetLogRecord|GetQueryResults)|ecr:(GetDownloadUrlForLayer|GetAuthorizationToken)|ssm:GetParameterHistory|kms:GetParametersForImport)$/;

/** Whether a grant of the administrator's deploy goes to the release role too: a configuration read that reads no data. */
export function isConfigurationRead(action: string): boolean {
  return CONFIGURATION_READ.test(action) && !DATA_READ.test(action);
}

/** What the constructs of one stack contributed, shared by each construct's view (`DeployPermissions.of`). */
interface GrantState {
  /** Everything deploying the stack calls: the administrator's deploy. */
  readonly list: Statement[];
  /** What a release calls (the CI role's): the release grants whole, and only the configuration reads of the rest. */
  readonly release: Statement[];
  /** Terraform resource types a release may change → the paths of the constructs that declared them (`DeployPermissions.release`). */
  readonly releaseTypes: Map<string, Set<string>>;
  /** Of those, the types a release makes anew each time and retires the old (task definition revisions). */
  readonly revisionTypes: Set<string>;
  /** Actions granted through a release view → the paths of the constructs that granted them. */
  readonly releaseGrantors: Map<string, Set<string>>;
  readonly linkedServices: Set<string>;
  readonly managedPolicies: Set<string>;
  /** Action → the paths of the constructs that granted it. */
  readonly grantors: Map<string, Set<string>>;
  /** Declared tag and untag calls → the paths of the constructs that declared them. */
  readonly tagging: Map<string, Set<string>>;
  readonly untagging: Map<string, Set<string>>;
}

function record(map: Map<string, Set<string>>, key: string, path: string): void {
  const paths = map.get(key) ?? new Set<string>();
  paths.add(path);
  map.set(key, paths);
}

function sortedEntries(map: Map<string, Set<string>>): ReadonlyMap<string, readonly string[]> {
  return new Map([...map].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));
}

/**
 * What deploying the stack calls, contributed by each construct where it is written, as aws-cdk's
 * grants: a construct that creates a kind of resource adds the calls Terraform makes for it
 * (`service`, `allow`), and says which of its resources a release changes (`release`). The CI role
 * (lib/ci/ci-access.ts) gets the release's share (`releaseStatements`); the rest is the administrator's
 * deploy (docs/security.md, "Two kinds of change"). Nothing is collected in a stack without CI access.
 *
 * Scoping, wherever AWS supports it: reads in the region; creates only with this environment's tags in
 * the request (`aws:RequestTag`); everything else only on resources tagged with this environment
 * (`aws:ResourceTag`); names under `<project>-<environment>` where a service has no tags to check.
 */
export class DeployPermissions {
  /**
   * The deploy permissions of the stack `scope` belongs to, when the stack has CI access; undefined when it
   * has none. A stack that collects them (`EnvironmentContext.collectsDeployPermissions`) and has not made
   * them yet is an error naming the construct: a construct built too early would otherwise grant nothing.
   */
  static of(scope: IConstruct): DeployPermissions | undefined {
    const stack = TerraformStack.of(scope);
    const made = permissions.get(stack);
    if (made) return made.by(scope);
    if (EnvironmentContext.of(scope).collectsDeployPermissions)
      throw new Error(
        `${scope.node.path}: asked for the deploy permissions before stack ${stack.node.path} made them; make DeployPermissions right after the EnvironmentContext`,
      );
    return undefined;
  }

  readonly partition: string;
  /** The construct whose calls these are (its path): `of(scope)` gives each construct a view of the stack's permissions that records it. */
  readonly grantor: string;
  /**
   * `foundation`: what grants or protects, deployed by an administrator; the release role gets only its
   * configuration reads. `release`: what a release changes, which the release role may call whole.
   */
  readonly stage: "foundation" | "release" = "foundation";
  private readonly state: GrantState;

  readonly props: DeployPermissionsProps;

  /** Made by a stack with CI access, after its `EnvironmentContext`, before the constructs that contribute. */
  constructor(stack: TerraformStack) {
    if (permissions.has(stack)) throw new Error(`${stack.node.path}: the stack already has deploy permissions`);
    const { project, environment, prefix, region, accountId, production, partition } = EnvironmentContext.of(stack);
    permissions.set(stack, this);
    this.props = { project, environment, prefix, region, accountId, production };
    this.partition = partition;
    this.grantor = stack.node.path;
    this.state = {
      list: [],
      release: [],
      releaseTypes: new Map(),
      revisionTypes: new Set(),
      releaseGrantors: new Map(),
      linkedServices: new Set(),
      managedPolicies: new Set(),
      grantors: new Map(),
      tagging: new Map(),
      untagging: new Map(),
    };
  }

  /** The same permissions, recording `scope` as the grantor of what is added through them. */
  private by(scope: IConstruct): DeployPermissions {
    return this.view({ grantor: scope.node.path, stage: "foundation" });
  }

  /** A view of the same shared state (`GrantState`) that differs from this one in `changes`. */
  private view(changes: Partial<Pick<DeployPermissions, "grantor" | "stage">>): DeployPermissions {
    return Object.assign(Object.create(DeployPermissions.prototype) as DeployPermissions, this, changes);
  }

  /**
   * The same permissions for what a release changes: the construct's resources of `types` (Terraform
   * resource types, e.g. `aws_ecs_service`) are the release's to change as `changes` says, and what is added
   * through the view is the release role's whole: grant it only the calls those changes make. Everything
   * else a construct grants is the administrator's (docs/security.md, "Two kinds of change"), so a
   * construct that declares nothing is never deployed by CI.
   */
  release(types: readonly string[], changes: ReleaseChanges = "updates"): DeployPermissions {
    for (const type of types) {
      record(this.state.releaseTypes, type, this.grantor);
      if (changes === "revisions") this.state.revisionTypes.add(type);
    }
    return this.view({ stage: "release" });
  }

  /** Every action granted through a release view (as written), with the constructs that granted it. */
  get releaseGrants(): ReadonlyMap<string, readonly string[]> {
    return sortedEntries(this.state.releaseGrantors);
  }

  /** The resource types a release may change, with the constructs that declared each (`release`). */
  get releaseTypes(): ReadonlyMap<string, readonly string[]> {
    return sortedEntries(this.state.releaseTypes);
  }

  /** How a release may change each of its types: `updates` in place, or `revisions` (made anew, the old retired). */
  get releaseChanges(): Readonly<Record<string, ReleaseChanges>> {
    return Object.fromEntries([...this.releaseTypes.keys()].map((type) => [type, this.state.revisionTypes.has(type) ? "revisions" : "updates"]));
  }

  private get list(): Statement[] {
    return this.state.list;
  }

  private get linkedServices(): Set<string> {
    return this.state.linkedServices;
  }

  private get managedPolicies(): Set<string> {
    return this.state.managedPolicies;
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

  /**
   * What a release calls, merged by Sid: the release grants whole, the configuration reads of every
   * other grant (Terraform refreshes every resource of the stack), and every deny.
   */
  get releaseStatements(): readonly Statement[] {
    return this.state.release;
  }

  /** Everything deploying the stack calls (the administrator's deploy), merged by Sid. */
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

  /** Adds statements as written, merged by Sid with other constructs'; see `release` for the release role's share. */
  allow(statements: readonly Statement[]): void {
    for (const statement of statements) {
      mergeStatement(this.list, statement, `deploy permissions of ${this.prefix}`);
      const forRelease = this.releaseShare(statement);
      if (forRelease) mergeStatement(this.state.release, forRelease, `release permissions of ${this.prefix}`);
      if (statement.Effect === "Deny") continue;
      for (const action of [statement.Action ?? []].flat()) {
        record(this.state.grantors, action, this.grantor);
        if (this.stage === "release") record(this.state.releaseGrantors, action, this.grantor);
      }
    }
  }

  /** What of a statement the release role gets: all of a release grant or a deny; of the rest, its configuration reads, under their own Sid. */
  private releaseShare(statement: Statement): Statement | undefined {
    if (this.stage === "release" || statement.Effect === "Deny") return statement;
    if (statement.Action === undefined) return undefined;
    const actions = [statement.Action].flat();
    const reads = actions.filter(isConfigurationRead);
    if (!reads.length) return undefined;
    if (reads.length === actions.length) return statement;
    return { ...statement, Sid: statement.Sid && `${statement.Sid}Reads`, Action: reads.length === 1 ? reads[0] : reads };
  }

  /**
   * Declares the calls of this construct's grants that set tags (`tag`) and remove them (`untag`): the CI
   * role's denies (lib/ci/ci-access.ts) refuse every declared call that would move a resource to another
   * environment or project, or take those tags off. Whoever grants a tag call declares it here, beside the
   * grant; CiAccess refuses a grant of a tag call nobody declared, naming the construct.
   */
  tags(tag: readonly string[], untag: readonly string[] = []): void {
    for (const action of tag) record(this.state.tagging, action, this.grantor);
    for (const action of untag) record(this.state.untagging, action, this.grantor);
  }

  /** Every action granted so far (as written, wildcards unexpanded), with the paths of the constructs that granted it. */
  get grants(): ReadonlyMap<string, readonly string[]> {
    return sortedEntries(this.state.grantors);
  }

  /** The tag calls declared (`tags`), with the constructs that declared each. */
  get tagging(): ReadonlyMap<string, readonly string[]> {
    return sortedEntries(this.state.tagging);
  }

  /** The untag calls declared (`tags`), with the constructs that declared each. */
  get untagging(): ReadonlyMap<string, readonly string[]> {
    return sortedEntries(this.state.untagging);
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
    if (grant.kind) this.kind(grant.kind);
  }

  /**
   * Declares that this construct deploys resources of `kind`: the calls its description names as setting and
   * removing tags (`ResourceKind.deploy`) are declared (`tags`), so the CI role's denies hold them.
   */
  kind(kind: ResourceKind): void {
    this.tags(kind.tagging.tag, kind.tagging.untag);
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
