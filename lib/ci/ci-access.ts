import { Construct } from "constructs";
import { Annotations, TerraformStack } from "cdktf";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { IAM_ROLES, INLINE_POLICIES_MAX, MANAGED_POLICY_MAX, policyDocument, statementsSize, type Statement } from "../core/iam";
import { holdings, ResourceKind } from "../core/resource-kind";
import { DeployPermissions } from "../core/deploy-permissions";
import { EnvironmentContext } from "../core/environment";
import { PermissionsBoundary } from "../core/permissions-boundary";
import * as z from "zod/mini";
import { fail, names, rule, withDefault } from "../settings/rules";
import { checkName } from "../settings/validate";
import { jsonString } from "../core/hcl";
import { RELEASE_TYPES_KEY } from "./release-changes";

export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
// Git ref and GitHub environment names, minus what a trust condition would read as a pattern or separator.
const BRANCH = /^(?!.*\.\.)(?!\/)(?!.*\/$)[A-Za-z0-9._/-]{1,200}$/;
const ENVIRONMENT = /^[A-Za-z0-9._ -]{1,255}$/;
const WILDCARDS = /[*?]/;
const WORKFLOW = /^[A-Za-z0-9._-]+\.ya?ml$/;
const REF = /^refs\/(heads|tags)\/(?!.*\.\.)(?!\/)(?!.*\/$)[A-Za-z0-9._/-]{1,200}$/;

/**
 * Lets GitHub Actions deploy this stack through OIDC, with no stored AWS keys: the GitHub identity
 * provider and one deploy role that only the named repository's jobs can assume.
 */
export const CiSettingsSchema = z
  .strictObject({
    /** `owner/name` of the GitHub repository whose workflows may deploy; no wildcards. */
    githubRepository: z.string().check(
      rule<string>((r) => !WILDCARDS.test(r), "a wildcard would let other repositories deploy", 'one repository, "owner/name"'),
      rule<string>(
        (r) => WILDCARDS.test(r) || REPOSITORY.test(r),
        "not a GitHub repository",
        '"owner/name": an owner of letters, digits and hyphens, a name of letters, digits, . _ -',
      ),
    ),
    /** GitHub environments whose jobs may assume the deploy role (exact `sub` claims). @default ["<name>"] */
    environments: z.optional(
      names.check(
        z.superRefine((environments, ctx) => {
          const bad = (problem: string, allowed: string) => fail(ctx, [], environments, problem, allowed);
          for (const environment of environments) {
            if (WILDCARDS.test(environment))
              return bad(`"${environment}" has a wildcard, which would trust every matching environment`, "exact GitHub environment names");
            if (!ENVIRONMENT.test(environment)) return bad(`"${environment}" is not a GitHub environment name`, "letters, digits, spaces and . _ -");
          }
          if (new Set(environments).size !== environments.length) bad("an environment is listed twice", "distinct names");
        }),
      ),
    ),
    /** A branch whose jobs outside any environment may assume it too (e.g. `"main"`). @default none */
    branch: z.optional(
      z.string().check(
        rule<string>(
          (b) => !WILDCARDS.test(b),
          "a wildcard would trust every matching branch, including ones anyone with push access can create",
          'one branch name, e.g. "main"',
        ),
        rule<string>(
          (b) => WILDCARDS.test(b) || (BRANCH.test(b) && !b.startsWith("refs/")),
          "not a branch name (the subject adds refs/heads/ itself)",
          'a branch such as "main", without "refs/heads/"',
        ),
      ),
    ),
    /**
     * Workflow files under `.github/workflows/` whose jobs may assume the role, e.g. `["release-dev.yml"]`: the trust then names each
     * (`job_workflow_ref`, at `ci.ref`), which needs the repository's OIDC subject to include it (docs/deploy-and-release.md, Set up once).
     * @default any workflow of the repository in the environment (`[]`; synth warns)
     */
    workflows: withDefault(
      names.check(
        z.superRefine((workflows, ctx) => {
          const bad = workflows.find((w) => !WORKFLOW.test(w));
          if (bad !== undefined)
            fail(
              ctx,
              [],
              workflows,
              `"${bad}" is not a workflow file name`,
              'file names under .github/workflows, such as "release-dev.yml", no wildcards or paths',
            );
          else if (new Set(workflows).size !== workflows.length) fail(ctx, [], workflows, "a workflow is listed twice", "distinct file names");
        }),
      ),
      [],
    ),
    /** The Git ref the workflows must run from (their `job_workflow_ref` ends `@<ref>`); restrict the GitHub environment to it too. @default "refs/heads/main" */
    ref: withDefault(
      z
        .string()
        .check(
          rule<string>((r) => !WILDCARDS.test(r) && REF.test(r), "not one full branch or tag ref", '"refs/heads/<branch>" or "refs/tags/<tag>", no wildcards'),
        ),
      "refs/heads/main",
    ),
    /** The account's existing GitHub OIDC provider; an account holds one. @default none (created) */
    oidcProviderArn: z.optional(z.string()),
    /** A managed policy set as the deploy role's own permissions boundary (the roles it deploys carry the stack's). @default none */
    permissionsBoundaryArn: z.optional(z.string()),
    /** ECR repository ARNs the role may pull from to promote an image unchanged (prod: dev's). @default [] */
    pullFrom: withDefault(names, []),
  })
  .check(
    z.superRefine((ci, ctx) => {
      if (ci.branch !== undefined && ci.workflows.length > 0 && ci.ref !== `refs/heads/${ci.branch}`)
        fail(
          ctx,
          ["branch"],
          ci.branch,
          `the workflows must run from ci.ref = "${ci.ref}", so jobs of branch "${ci.branch}" could never assume the role`,
          `ci.branch "${ci.ref.replace(/^refs\/heads\//, "")}", or ci.ref "refs/heads/${ci.branch}"`,
        );
      if (ci.environments?.length === 0 && ci.branch === undefined)
        fail(
          ctx,
          ["environments"],
          ci.environments,
          "no environment and no branch: no job could assume the role",
          "at least one GitHub environment, or ci.branch",
        );
    }),
  );
/** GitHub Actions access as written in an environment. */
export type CiSettings = z.input<typeof CiSettingsSchema>;
/** The same, checked, with every default applied (the stack fills `environments` with the environment's name). */
export type CiConfig = z.output<typeof CiSettingsSchema> & { readonly environments: readonly string[] };

/** The ARN rules that depend on the region's partition (aws, aws-cn, aws-us-gov), as [field, value, problem, allowed]. */
export function ciArnProblems(ci: z.output<typeof CiSettingsSchema>, partition: string): [string, unknown, string, string][] {
  const problems: [string, unknown, string, string][] = [];
  if (
    ci.oidcProviderArn !== undefined &&
    !new RegExp(`^arn:${partition}:iam::\\d{12}:oidc-provider/${GITHUB_OIDC_HOST.replace(/\./g, "\\.")}$`).test(ci.oidcProviderArn)
  )
    problems.push([
      "oidcProviderArn",
      ci.oidcProviderArn,
      "not the ARN of a GitHub Actions OIDC provider",
      `arn:${partition}:iam::<account>:oidc-provider/${GITHUB_OIDC_HOST}`,
    ]);
  if (
    ci.permissionsBoundaryArn !== undefined &&
    !new RegExp(`^arn:${partition}:iam::(\\d{12}|aws):policy/[A-Za-z0-9+=,.@_/-]+$`).test(ci.permissionsBoundaryArn)
  )
    problems.push(["permissionsBoundaryArn", ci.permissionsBoundaryArn, "not a managed policy ARN", `arn:${partition}:iam::<account>:policy/<name>`]);
  const repository = new RegExp(`^arn:${partition}:ecr:[a-z0-9-]+:\\d{12}:repository/[a-z0-9][a-z0-9._/-]*$`);
  const badPull = ci.pullFrom.find((arn) => WILDCARDS.test(arn) || !repository.test(arn));
  if (badPull !== undefined)
    problems.push([
      "pullFrom",
      ci.pullFrom,
      `"${badPull}" is not the ARN of one ECR repository`,
      `arn:${partition}:ecr:<region>:<account>:repository/<name>, no wildcards`,
    ]);
  return problems;
}

/**
 * The environment's own (`EnvironmentContext`): the role is `<prefix>-ci-deploy` and IAM access stops at
 * `<prefix>-*`; the stack's `DeployPermissions` (what its constructs contributed) and its
 * `PermissionsBoundary` (which every role the deploy role creates or changes must carry).
 */
export interface CiAccessProps extends CiConfig {
  /** The stack's repository name (`<project>-<environment>`), which CI pushes to. */
  readonly repositoryName: string;
  /** The S3 state the deploy reads and writes, when the state is in S3. */
  readonly state?: { readonly bucket: string; readonly key: string; readonly kmsKeyId?: string };
}

/** How many managed policies the deploy role may have (IAM's default quota is 10; 2 are left for you). */
const MAX_DEPLOY_POLICIES = 8;
/** The calls that copy an image from another environment's repository when promoting. */
const PROMOTION_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"];
/**
 * The GitHub OIDC provider CI's role trusts (unless the environment names an existing one).
 */
export const OIDC_PROVIDER = new ResourceKind({
  name: "GitHub OIDC provider",
  file: __filename,
  types: ["aws_iam_openid_connect_provider"],
  deploy: { services: ["iam"] },
  endpoints: ["iam"],
  price: { why: "IAM charges nothing for roles, policies or providers" },
  inventory: async (aws) =>
    holdings(
      "iam",
      "oidc-provider",
      ((await aws("iam", "ListOpenIDConnectProviders")).OpenIDConnectProviderList ?? []).map((p: { Arn?: string }) => p.Arn),
    ),
  alarms: { why: "a sign-in it refuses fails the workflow, which reports it" },
});
/**
 * A call that sets or removes tags, by AWS's naming (`TagResource`, `UntagQueue`, `AddTagsToResource`,
 * `RemoveTags`, `CreateTags`, `DeleteTags`, `CreateOrUpdateTags`, `PutBucketTagging`, `DeleteBucketTagging`):
 * one granted without a declaration is refused at synth. __tests__/iam/tag-declarations.test.ts holds
 * every granted call AWS lists as "Tagging" to the declarations too.
 */
export const TAG_CALL = /^[a-z0-9-]+:(Tag|Untag|AddTags|RemoveTags|CreateTags|DeleteTags|CreateOrUpdateTags|Put\w*Tagging|Delete\w*Tagging)/;
/** Global services (AWS Budgets among them: one endpoint in us-east-1), and the calls that reach a repository or the state in another region. */
const ANY_REGION = ["iam:*", "sts:*", "route53:*", "s3:*", "budgets:*", "ecr:GetAuthorizationToken", ...PROMOTION_PULL];

/**
 * The GitHub OIDC provider (or an existing one) and the release role CI deploys with. Its permissions are
 * a release's share of what the stack's constructs contributed (`DeployPermissions.releaseStatements`:
 * task definitions, services, scaling, schedules, alarms, and the configuration reads a refresh of the
 * rest needs), in managed policies, and what no construct owns, inline: pushing images, the state, and
 * the limits no allow can lift (explicit denies). Everything that grants or protects is deployed by an
 * administrator; `npm run deploy:release` refuses a plan that would change any of it.
 */
export class CiAccess extends Construct {
  readonly role: IamRole;
  readonly providerArn: string;
  /** The `sub` claims the role trusts, exactly. */
  readonly subjects: string[];
  /** The managed policies holding the constructs' contributions, in order. */
  readonly deployPolicies: IamPolicy[] = [];
  /** The calls that set tags, which may never set another environment's or project's (its own and what the constructs declared). */
  readonly tagging: readonly string[];
  /** The calls that remove tags, which may never remove `Environment` or `Project`. */
  readonly untagging: readonly string[];
  private readonly props: CiAccessProps;
  private readonly environment: EnvironmentContext;
  private readonly permissions: DeployPermissions;
  private readonly boundary: PermissionsBoundary;

  constructor(scope: Construct, id: string, props: CiAccessProps) {
    super(scope, id);
    this.props = props;
    this.environment = EnvironmentContext.of(this);
    const permissions = DeployPermissions.of(this);
    const boundary = PermissionsBoundary.of(this);
    if (!permissions || !boundary)
      throw new Error(`CiAccess ${this.node.path}: the stack needs DeployPermissions and a PermissionsBoundary, made before the constructs they collect from`);
    this.permissions = permissions;
    this.boundary = boundary;
    // IAM's tag calls (IAM_ROLES) are denied as the constructs' are though the role is granted none (no IAM write),
    // so a grant added later is still held; the constructs declare theirs with their kinds (DeployPermissions.kind).
    // Both make the calls that must never move a resource to another environment or project (DenyRetagging*) or
    // take those tags off (DenyUntaggingScope).
    this.tagging = [...new Set([...IAM_ROLES.tagging.tag, ...permissions.tagging.keys()])].sort();
    this.untagging = [...new Set([...IAM_ROLES.tagging.untag, ...permissions.untagging.keys()])].sort();
    const undeclared = undeclaredTagCalls(permissions.grants, [...this.tagging, ...this.untagging]);
    if (undeclared.length)
      throw new Error(
        `CiAccess ${this.node.path}: ${undeclared.join("; ")}; declare each beside its grant (DeployPermissions.of(this)?.tags([...], [...])) so the CI role's denies cover it`,
      );
    const prefix = this.environment.prefix;
    const repo = props.githubRepository;

    this.providerArn =
      props.oidcProviderArn ??
      new IamOpenidConnectProvider(this, "GithubOidc", {
        url: `https://${GITHUB_OIDC_HOST}`,
        // The audience configure-aws-credentials asks for; AWS trusts GitHub's certificate itself, so no thumbprint.
        clientIdList: ["sts.amazonaws.com"],
      }).arn;

    this.subjects = subjects(props);
    if (!props.workflows.length)
      Annotations.of(this).addWarning(
        `ci.workflows is empty: any workflow of ${repo} running in ${props.environments.map((e) => `environment "${e}"`).join(" or ")} can assume ${prefix}-ci-deploy; name the workflows that deploy (docs/deploy-and-release.md, Set up once).`,
      );
    const roleName = checkName("project and name", `${prefix}-ci-deploy`, 64, "CI deploy role");
    this.role = new IamRole(this, "DeployRole", {
      name: roleName,
      description: `GitHub Actions in ${repo} deploying ${prefix}`,
      // A deploy is minutes long; an hour leaves room for a slow database change without a longer-lived token.
      maxSessionDuration: 3600,
      ...(props.permissionsBoundaryArn ? { permissionsBoundary: props.permissionsBoundaryArn } : {}),
      assumeRolePolicy: jsonString({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Federated: this.providerArn },
            Action: "sts:AssumeRoleWithWebIdentity",
            // StringEquals, never StringLike: only these exact subjects, for this audience.
            Condition: { StringEquals: { [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com", [`${GITHUB_OIDC_HOST}:sub`]: this.subjects } },
          },
        ],
      }),
    });
    const push = pushStatements(this.arn("ecr", `repository/${props.repositoryName}`), props.pullFrom);
    const deploy = this.coreStatements();
    new IamRolePolicy(this, "Push", { role: this.role.id, name: "PushImage", policy: policyDocument(push) });
    new IamRolePolicy(this, "Deploy", { role: this.role.id, name: "DeployStack", policy: policyDocument(deploy) });
    const inline = statementsSize(push, this.environment.accountId) + statementsSize(deploy, this.environment.accountId);
    if (inline > INLINE_POLICIES_MAX)
      throw new Error(`CiAccess ${this.node.path}: the deploy role's inline policies are about ${inline} characters, over IAM's ${INLINE_POLICIES_MAX}`);
    // A release's share only: what grants or protects is deployed by an administrator (docs/security.md, "Two kinds of change").
    this.attach(permissions.releaseStatements);
    // What the release role may change, where the release path reads it: the synthesized stack it plans (lib/ci/release-changes.ts).
    TerraformStack.of(this).addOverride(`//.${RELEASE_TYPES_KEY}`, permissions.releaseChanges);
  }

  /**
   * Lets the deploy role make these calls too, in a managed policy of their own, as a construct's
   * grant would (constructs made before the CI access add theirs to `DeployPermissions`).
   */
  allow(statements: readonly Statement[]): void {
    const granted = new Map(
      statements.filter((st) => st.Effect !== "Deny").flatMap((st) => [st.Action ?? []].flat().map((a) => [a, [this.node.path]] as const)),
    );
    const undeclared = undeclaredTagCalls(granted, [...this.tagging, ...this.untagging]);
    if (undeclared.length)
      throw new Error(
        `CiAccess ${this.node.path}: allow: ${undeclared.join("; ")}; grant tag calls from a construct that declares them (DeployPermissions.tags)`,
      );
    this.attach(statements);
  }

  /** Packs statements into managed policies of at most IAM's size each and attaches them. */
  private attach(statements: readonly Statement[]): void {
    const chunks: Statement[][] = [];
    for (const statement of statements) {
      const last = chunks.at(-1);
      if (last && statementsSize([...last, statement], this.environment.accountId) <= MANAGED_POLICY_MAX) last.push(statement);
      else chunks.push([statement]);
    }
    for (const chunk of chunks) {
      const n = this.deployPolicies.length + 1;
      if (n > MAX_DEPLOY_POLICIES)
        throw new Error(`CiAccess ${this.node.path}: the deploy permissions need more than ${MAX_DEPLOY_POLICIES} managed policies; merge statements`);
      const policy = new IamPolicy(this, `DeployPolicy${n}`, {
        name: `${this.environment.prefix}-ci-deploy-${n}`,
        description: `What deploying ${this.environment.prefix} calls, part ${n} (written by its constructs)`,
        policy: policyDocument(chunk),
      });
      new IamRolePolicyAttachment(this, `DeployPolicy${n}Attachment`, { role: this.role.name, policyArn: policy.arn });
      this.deployPolicies.push(policy);
    }
  }

  private arn(service: string, resource: string, region = this.environment.region, account = this.environment.accountId): string {
    return this.permissions.arn(service, resource, region, account);
  }

  /**
   * What no construct owns: reading the environment's roles (Terraform refreshes them), the provider, the
   * boundary and its own policies; the state; and the denies no allow lifts. No IAM write: the roles, their
   * trust and their policies are the administrator's, so a release can never mint access.
   */
  private coreStatements(): Statement[] {
    const { props } = this;
    const perms = this.permissions;
    const prefix = this.environment.prefix;
    const roles = this.arn("iam", `role/${prefix}-*`, "");
    const self = this.arn("iam", `role/${prefix}-ci-deploy`, "");
    const ownPolicies = this.arn("iam", `policy/${prefix}-ci-deploy-*`, "");
    const boundary = this.boundary.arn;
    const withBoundary = { "iam:PermissionsBoundary": boundary };
    const statements: Statement[] = [
      { Sid: "ReadOidcProvider", Action: ["iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviderTags"], Resource: this.providerArn },
      {
        Sid: "ReadBoundaryAndOwnPolicies",
        Action: ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags", "iam:ListPolicyVersions"],
        Resource: [boundary, ownPolicies],
      },
      {
        Sid: "ReadRoles",
        Action: [
          "iam:GetRole",
          "iam:GetRolePolicy",
          "iam:ListAttachedRolePolicies",
          "iam:ListInstanceProfilesForRole",
          "iam:ListRolePolicies",
          "iam:ListRoleTags",
        ],
        Resource: roles,
      },
      ...stateStatements(props, perms.partition),
      // Limits no allow lifts. Itself, its provider and its policies: CI access changes are deployed by a person.
      {
        Sid: "DenySelfChange",
        Effect: "Deny",
        Action: [
          "iam:Add*",
          "iam:Attach*",
          "iam:Create*",
          "iam:Delete*",
          "iam:Detach*",
          "iam:PassRole",
          "iam:Put*",
          "iam:Remove*",
          "iam:Set*",
          "iam:Tag*",
          "iam:Untag*",
          "iam:Update*",
        ],
        Resource: [self, this.providerArn, ownPolicies],
      },
      // No managed policy is written by CI: not the boundary, not its own.
      {
        Sid: "DenyPolicyChanges",
        Effect: "Deny",
        Action: [
          "iam:CreatePolicy",
          "iam:CreatePolicyVersion",
          "iam:DeletePolicy",
          "iam:DeletePolicyVersion",
          "iam:SetDefaultPolicyVersion",
          "iam:TagPolicy",
          "iam:UntagPolicy",
        ],
        Resource: "*",
      },
      { Sid: "DenyRemovingBoundaries", Effect: "Deny", Action: "iam:DeleteRolePermissionsBoundary", Resource: "*" },
      // An alarm acts only on the environment's topic and its services' scaling policies: not another account's
      // topic, another environment's scaling, or an EC2 or Systems Manager action. PutMetricAlarm evaluates
      // cloudwatch:AlarmActions (AWS's Service Authorization Reference, "Actions, resources, and condition keys for Amazon CloudWatch").
      {
        Sid: "DenyOtherAlarmActions",
        Effect: "Deny",
        Action: "cloudwatch:PutMetricAlarm",
        Resource: "*",
        Condition: {
          "ForAnyValue:ArnNotLike": {
            "cloudwatch:AlarmActions": [this.arn("sns", `${prefix}-alarms`), this.arn("autoscaling", `scalingPolicy:*:resource/ecs/service/${prefix}/*`)],
          },
        },
      },
      {
        Sid: "DenyOtherBoundaries",
        Effect: "Deny",
        Action: ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
        Resource: "*",
        Condition: { StringNotEqualsIfExists: withBoundary },
      },
      // A role the deploy makes could trust this one; it must not become a way out of these limits.
      { Sid: "DenyAssumingRoles", Effect: "Deny", Action: ["sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"], Resource: "*" },
      // Nothing tagged with another environment or project, whatever an allow says (promotion reads another environment's images).
      ...(["Environment", "Project"] as const).map((tag): Statement => ({
        Sid: `DenyOther${tag}s`,
        Effect: "Deny",
        NotAction: PROMOTION_PULL,
        Resource: "*",
        Condition: {
          Null: { [`aws:ResourceTag/${tag}`]: "false" },
          StringNotEquals: { [`aws:ResourceTag/${tag}`]: tag === "Project" ? perms.props.project : perms.props.environment },
        },
      })),
      ...(["Environment", "Project"] as const).map((tag): Statement => ({
        Sid: `DenyRetagging${tag}`,
        Effect: "Deny",
        Action: [...this.tagging],
        Resource: "*",
        Condition: {
          Null: { [`aws:RequestTag/${tag}`]: "false" },
          StringNotEquals: { [`aws:RequestTag/${tag}`]: tag === "Project" ? perms.props.project : perms.props.environment },
        },
      })),
      {
        Sid: "DenyUntaggingScope",
        Effect: "Deny",
        Action: [...this.untagging],
        Resource: "*",
        Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": ["Environment", "Project"] } },
      },
      {
        Sid: "DenyOtherRegions",
        Effect: "Deny",
        NotAction: ANY_REGION,
        Resource: "*",
        Condition: { StringNotEquals: { "aws:RequestedRegion": this.environment.region } },
      },
    ];
    return statements;
  }
}

/** Each granted tag call (`TAG_CALL`) missing from the declared ones, naming the constructs that granted it. */
export function undeclaredTagCalls(grants: ReadonlyMap<string, readonly string[]>, declared: readonly string[]): string[] {
  const known = new Set(declared);
  return [...grants]
    .filter(([action]) => TAG_CALL.test(action) && !known.has(action))
    .map(([action, paths]) => `${paths.join(", ")} grants ${action}, a tag call no construct declared`);
}

/**
 * The subjects the trust names: each environment's (and `branch`'s) jobs, and with `workflows`, each
 * workflow at `ref` (GitHub's subject with `repo`, `context` and `job_workflow_ref`).
 */
function subjects(ci: CiConfig): string[] {
  const repo = ci.githubRepository;
  const contexts = [...ci.environments.map((e) => `environment:${e}`), ...(ci.branch !== undefined ? [`ref:refs/heads/${ci.branch}`] : [])];
  if (!ci.workflows.length) return contexts.map((c) => `repo:${repo}:${c}`);
  return contexts.flatMap((c) => {
    const ref = c.startsWith("ref:") ? c.slice(4) : ci.ref;
    return ci.workflows.map((w) => `repo:${repo}:${c}:job_workflow_ref:${repo}/.github/workflows/${w}@${ref}`);
  });
}

/** Push (and pull, to copy an image on promotion) in this stack's repository only. */
function pushStatements(repository: string, pullFrom: readonly string[]): Statement[] {
  return [
    // GetAuthorizationToken has no resource-level permissions; AWS requires "*".
    { Sid: "EcrLogin", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    {
      Sid: "EcrPushPull",
      Action: [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:DescribeImages",
        "ecr:GetDownloadUrlForLayer",
        "ecr:InitiateLayerUpload",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
      ],
      Resource: repository,
    },
    ...(pullFrom.length
      ? [{ Sid: "EcrPullForPromotion", Action: PROMOTION_PULL.filter((a) => a !== "ecr:BatchCheckLayerAvailability"), Resource: [...pullFrom] }]
      : []),
  ];
}

/** The state object and its S3-native lock file, and its key when it has one. */
function stateStatements(props: CiAccessProps, partition: string): Statement[] {
  if (!props.state) return [];
  const object = `arn:${partition}:s3:::${props.state.bucket}/${props.state.key}`;
  return [
    { Sid: "StateList", Action: "s3:ListBucket", Resource: `arn:${partition}:s3:::${props.state.bucket}` },
    { Sid: "StateObject", Action: ["s3:GetObject", "s3:PutObject"], Resource: [object, `${object}.tflock`] },
    // Only the lock is ever deleted (S3-native locking releases it so); the state itself never is.
    { Sid: "StateLockRelease", Action: "s3:DeleteObject", Resource: `${object}.tflock` },
    ...(props.state.kmsKeyId?.startsWith("arn:")
      ? [{ Sid: "StateKey", Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], Resource: props.state.kmsKeyId }]
      : []),
  ];
}
