import { Construct } from "constructs";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { partitionOf, policyDocument, Statement } from "./iam";
import * as z from "zod/mini";
import { fail, names, rule, withDefault } from "./rules";
import { checkName } from "./validate";
import { jsonString } from "./hcl";

export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
// Git ref and GitHub environment names, minus what a trust condition would read as a pattern or separator.
const BRANCH = /^(?!.*\.\.)(?!\/)(?!.*\/$)[A-Za-z0-9._/-]{1,200}$/;
const ENVIRONMENT = /^[A-Za-z0-9._ -]{1,255}$/;
const WILDCARDS = /[*?]/;

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
    /** The account's existing GitHub OIDC provider; an account holds one. @default none (created) */
    oidcProviderArn: z.optional(z.string()),
    /** A managed policy set as the deploy role's permissions boundary. @default none */
    permissionsBoundaryArn: z.optional(z.string()),
    /** ECR repository ARNs the role may pull from to promote an image unchanged (prod: dev's). @default [] */
    pullFrom: withDefault(names, []),
  })
  .check(
    z.superRefine((ci, ctx) => {
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

export interface CiAccessProps extends CiConfig {
  /** `<project>-<environment>`: the role is `<prefix>-ci-deploy`, and IAM access stops at `<prefix>-*`. */
  readonly name: string;
  readonly region: string;
  readonly repository: EcrRepository;
  /** The S3 state the deploy reads and writes, when the state is in S3. */
  readonly state?: { readonly bucket: string; readonly key: string; readonly kmsKeyId?: string };
  /** What this stack manages beside the always-present services, so the role gets nothing more. */
  readonly uses: {
    readonly database: boolean;
    readonly ec2Capacity: boolean;
    readonly accessLogs: boolean;
    readonly certificate: boolean;
    readonly hostedZoneId?: string;
    /** The alarm topic, alarms, the service-event rule and the dashboard. */
    readonly alarms: boolean;
    /** The repository encrypted with the environment's key (ECR holds a grant on it, made as the caller). */
    readonly repositoryKey: boolean;
    /** A web ACL in front of the load balancer, with its log group. */
    readonly waf: boolean;
  };
}

/** The GitHub OIDC provider (or an existing one) and the deploy role. */
export class CiAccess extends Construct {
  readonly role: IamRole;
  readonly providerArn: string;
  /** The `sub` claims the role trusts, exactly. */
  readonly subjects: string[];

  constructor(scope: Construct, id: string, props: CiAccessProps) {
    super(scope, id);
    const repo = props.githubRepository;
    const environments = props.environments;

    this.providerArn =
      props.oidcProviderArn ??
      new IamOpenidConnectProvider(this, "GithubOidc", {
        url: `https://${GITHUB_OIDC_HOST}`,
        // The audience configure-aws-credentials asks for; AWS trusts GitHub's certificate itself, so no thumbprint.
        clientIdList: ["sts.amazonaws.com"],
      }).arn;

    this.subjects = [
      ...environments.map((e) => `repo:${repo}:environment:${e}`),
      ...(props.branch !== undefined ? [`repo:${repo}:ref:refs/heads/${props.branch}`] : []),
    ];
    const roleName = checkName("project and name", `${props.name}-ci-deploy`, 64, "CI deploy role");
    this.role = new IamRole(this, "DeployRole", {
      name: roleName,
      description: `GitHub Actions in ${repo} deploying ${props.name}`,
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
    new IamRolePolicy(this, "Push", {
      role: this.role.id,
      name: "PushImage",
      policy: policyDocument(pushStatements(props.repository, props.pullFrom)),
    });
    const partition = partitionOf(props.region);
    new IamRolePolicy(this, "Deploy", {
      role: this.role.id,
      name: "DeployStack",
      policy: policyDocument(deployStatements(props, partition, this.role.arn, this.providerArn)),
    });
  }
}

/** Push (and pull, to copy an image on promotion) in this stack's repository only. */
function pushStatements(repository: EcrRepository, pullFrom: readonly string[]): Statement[] {
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
      Resource: repository.arn,
    },
    ...(pullFrom.length
      ? [{ Sid: "EcrPullForPromotion", Action: ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"], Resource: [...pullFrom] }]
      : []),
  ];
}

/**
 * What `cdktf deploy` of this stack calls: Terraform creates, reads, updates and deletes every resource
 * of the stack, so the role may manage those services, but only in the stack's region, IAM only under
 * the stack's name prefix, ECR only on its repository, and never itself or the identity provider.
 */
function deployStatements(props: CiAccessProps, partition: string, selfArn: string, providerArn: string): Statement[] {
  const region = props.region;
  const inRegion = { StringEquals: { "aws:RequestedRegion": region } };
  const prefix = props.name;
  const services = [
    "ec2:*",
    "ecs:*",
    "elasticloadbalancing:*",
    "logs:*",
    "application-autoscaling:*",
    // Target tracking scaling policies create and delete their CloudWatch alarms as the caller.
    "cloudwatch:DeleteAlarms",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:PutMetricAlarm",
    ...(props.uses.alarms ? ["cloudwatch:ListTagsForResource", "cloudwatch:TagResource", "cloudwatch:UntagResource"] : []),
    ...(props.uses.database ? ["rds:*"] : []),
    ...(props.uses.ec2Capacity ? ["autoscaling:*", "ssm:GetParameter", "ssm:GetParameters"] : []),
    ...(props.uses.certificate ? ["acm:*"] : []),
    // Associating a web ACL with the load balancer also calls elasticloadbalancing:SetWebACL, allowed above.
    ...(props.uses.waf ? ["wafv2:*"] : []),
  ];
  const roles = [`arn:${partition}:iam::*:role/${prefix}-*`, `arn:${partition}:iam::*:instance-profile/${prefix}-*`];
  const managedPolicies = [
    ...(props.uses.database ? ["service-role/AmazonRDSEnhancedMonitoringRole"] : []),
    ...(props.uses.ec2Capacity ? ["service-role/AmazonEC2ContainerServiceforEC2Role", "AmazonSSMManagedInstanceCore"] : []),
  ].map((p) => `arn:${partition}:iam::aws:policy/${p}`);
  const statements: Statement[] = [
    { Sid: "StackServices", Action: services, Resource: "*", Condition: inRegion },
    // Terraform manages the repository itself (lifecycle policy, scanning, tags), not only its images.
    { Sid: "Repository", Action: "ecr:*", Resource: props.repository.arn },
    {
      Sid: "StackRoles",
      Action: [
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:GetRole",
        "iam:UpdateRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:PutRolePolicy",
        "iam:GetRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
        "iam:PassRole",
        "iam:CreateInstanceProfile",
        "iam:DeleteInstanceProfile",
        "iam:GetInstanceProfile",
        "iam:AddRoleToInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:TagInstanceProfile",
        "iam:UntagInstanceProfile",
      ],
      Resource: roles,
    },
    // Reading the provider keeps Terraform's refresh working; changing it is denied below.
    { Sid: "ReadOidcProvider", Action: ["iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviderTags"], Resource: providerArn },
    // ECS, load balancing, RDS and autoscaling create their service-linked roles on first use in an account.
    {
      Sid: "ServiceLinkedRoles",
      Action: "iam:CreateServiceLinkedRole",
      Resource: "*",
      Condition: {
        StringEquals: {
          "iam:AWSServiceName": [
            "ecs.amazonaws.com",
            "elasticloadbalancing.amazonaws.com",
            "ecs.application-autoscaling.amazonaws.com",
            ...(props.uses.database ? ["rds.amazonaws.com"] : []),
            ...(props.uses.ec2Capacity ? ["autoscaling.amazonaws.com"] : []),
          ],
        },
      },
    },
    {
      Sid: "StackKeys",
      Action: [
        "kms:CreateKey",
        "kms:CreateAlias",
        "kms:DeleteAlias",
        "kms:DescribeKey",
        "kms:EnableKeyRotation",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListAliases",
        "kms:ListResourceTags",
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:UpdateKeyDescription",
      ],
      Resource: "*",
      Condition: inRegion,
    },
  ];
  if (props.uses.repositoryKey) {
    statements.push({
      Sid: "RepositoryKeyGrant",
      Action: ["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"],
      Resource: "*",
      Condition: { StringEquals: { "kms:ViaService": `ecr.${region}.amazonaws.com` } },
    });
  }
  if (managedPolicies.length) {
    // Only the AWS-managed policies the stack attaches: attaching AdministratorAccess to a stack role would be an escalation.
    statements.push({
      Sid: "StackManagedPolicies",
      Action: ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
      Resource: roles[0],
      Condition: { ArnEquals: { "iam:PolicyARN": managedPolicies } },
    });
  }
  if (props.uses.database) {
    // RDS creates and rotates the master password's secret (named rds!…) and encrypts it as the caller.
    statements.push(
      {
        Sid: "DatabaseSecret",
        Action: [
          "secretsmanager:CreateSecret",
          "secretsmanager:DeleteSecret",
          "secretsmanager:DescribeSecret",
          "secretsmanager:RotateSecret",
          "secretsmanager:TagResource",
        ],
        Resource: `arn:${partition}:secretsmanager:${region}:*:secret:rds!*`,
      },
      {
        Sid: "DatabaseKeyUse",
        Action: [
          "kms:CreateGrant",
          "kms:Decrypt",
          "kms:Encrypt",
          "kms:GenerateDataKey",
          "kms:GenerateDataKeyWithoutPlaintext",
          "kms:ReEncryptFrom",
          "kms:ReEncryptTo",
        ],
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": [`rds.${region}.amazonaws.com`, `secretsmanager.${region}.amazonaws.com`] } },
      },
    );
  }
  if (props.uses.alarms) {
    const topic = `arn:${partition}:sns:${region}:*:${prefix}-alarms`;
    statements.push(
      {
        Sid: "AlarmTopic",
        Action: [
          "sns:CreateTopic",
          "sns:DeleteTopic",
          "sns:GetTopicAttributes",
          "sns:SetTopicAttributes",
          "sns:Subscribe",
          "sns:Unsubscribe",
          "sns:GetSubscriptionAttributes",
          "sns:SetSubscriptionAttributes",
          "sns:ListSubscriptionsByTopic",
          "sns:TagResource",
          "sns:UntagResource",
          "sns:ListTagsForResource",
        ],
        Resource: [topic, `${topic}:*`],
      },
      {
        Sid: "ServiceEventRule",
        Action: [
          "events:PutRule",
          "events:DeleteRule",
          "events:DescribeRule",
          "events:PutTargets",
          "events:RemoveTargets",
          "events:ListTargetsByRule",
          "events:TagResource",
          "events:UntagResource",
          "events:ListTagsForResource",
        ],
        Resource: `arn:${partition}:events:${region}:*:rule/${prefix}-*`,
      },
      {
        Sid: "Dashboard",
        Action: ["cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"],
        Resource: `arn:${partition}:cloudwatch::*:dashboard/${prefix}`,
      },
    );
  }
  if (props.uses.accessLogs) {
    statements.push({ Sid: "AccessLogBucket", Action: "s3:*", Resource: [`arn:${partition}:s3:::${prefix}-lb-logs-*`] });
  }
  if (props.uses.hostedZoneId) {
    statements.push(
      {
        Sid: "DnsRecords",
        Action: ["route53:ChangeResourceRecordSets", "route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ListTagsForResource"],
        Resource: `arn:${partition}:route53:::hostedzone/${props.uses.hostedZoneId}`,
      },
      { Sid: "DnsChanges", Action: "route53:GetChange", Resource: `arn:${partition}:route53:::change/*` },
    );
  }
  if (props.state) {
    const object = `arn:${partition}:s3:::${props.state.bucket}/${props.state.key}`;
    statements.push(
      { Sid: "StateList", Action: "s3:ListBucket", Resource: `arn:${partition}:s3:::${props.state.bucket}` },
      // The state object and its S3-native lock file (use_lockfile).
      { Sid: "StateObject", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: [object, `${object}.tflock`] },
      ...(props.state.kmsKeyId?.startsWith("arn:")
        ? [{ Sid: "StateKey", Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], Resource: props.state.kmsKeyId }]
        : []),
    );
  }
  // The role must not widen its own trust or permissions, nor trust another repository: CI access
  // changes are deployed by a person, once (README, "Set up once in GitHub").
  statements.push(
    {
      Sid: "DenySelfChange",
      Effect: "Deny",
      Action: [
        "iam:Attach*",
        "iam:Create*",
        "iam:Delete*",
        "iam:Detach*",
        "iam:Put*",
        "iam:Tag*",
        "iam:Untag*",
        "iam:Update*",
        "iam:Add*",
        "iam:Remove*",
        "iam:Set*",
      ],
      Resource: [selfArn, providerArn],
    },
    // A role created by the deploy could trust this one; it must not become a way out of these limits.
    { Sid: "DenyAssumeOtherRoles", Effect: "Deny", Action: ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"], Resource: "*" },
  );
  return statements;
}
