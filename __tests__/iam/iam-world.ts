/**
 * The synthesized dev and prod as IAM sees them once deployed into one account (docs/deploy-and-release.md's CI setup):
 * every role with its trust, inline and attached policies and permissions boundary; the resources the
 * cases name, with their ARNs and tags; the resource policies (key, topic, bucket). Terraform references
 * in the policies are filled in with the values AWS would give them (ARNs from names, made-up ids).
 *
 * Requests are evaluated by @cloud-copilot/iam-simulate, an IAM policy evaluator (identity and resource
 * policies, boundaries, every condition operator). It is AGPL-3.0: a devDependency used only here, by
 * the tests; nothing of it is bundled or shipped (docs/security.md).
 */
import { createHash } from "node:crypto";
import { runSimulation, runUnsafeSimulation } from "@cloud-copilot/iam-simulate";
import { dev, environments, prod } from "../../environments/environments";
import { examples, planOnlyExamples } from "../support/variants";
import { parseSettings } from "../../lib/settings/environment/schema";
import { resourcePrefix, type EnvironmentSettings } from "../../lib/settings/environment/settings";
import { OFFLINE_ACCOUNT_ID } from "../../stacks/api-stack";
import { synth, type TfJson } from "../support/helpers";
import { ResourceKind } from "../../lib/core/resource-kind";

export const ACCOUNT = OFFLINE_ACCOUNT_ID;
/** dev's region, where a case needs one region for the world (each environment has its own: `Environment.region`). */
export const REGION = parseSettings(dev).region;
/** The GitHub repository the deploy roles trust (not the project's name: a fork keeps its own). */
export const REPO = "acme/rest-api";
export const OIDC_PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;

/** dev and prod with CI access as docs/deploy-and-release.md's setup writes it: one account, state in S3, prod pulling dev's images. */
export const CI_ENVIRONMENTS: Record<"dev" | "prod", EnvironmentSettings> = {
  dev: { ...dev, state: { backend: "s3", bucket: "acme-terraform-state" }, ci: { githubRepository: REPO, workflows: ["release-dev.yml"] } },
  prod: {
    ...prod,
    state: { backend: "s3", bucket: "acme-terraform-state" },
    ci: {
      githubRepository: REPO,
      workflows: ["promote-prod.yml"],
      oidcProviderArn: OIDC_PROVIDER,
      pullFrom: [`arn:aws:ecr:${parseSettings(dev).region}:${ACCOUNT}:repository/${resourcePrefix(dev)}`],
    },
  },
};

/** Every environment and variant, with CI access as the setup writes it (dev and prod as above; the rest deployed by release-dev.yml). */
export const WITH_CI: readonly EnvironmentSettings[] = [
  CI_ENVIRONMENTS.dev,
  CI_ENVIRONMENTS.prod,
  ...[...environments.filter((e) => e.name !== "dev" && e.name !== "prod"), ...examples, ...planOnlyExamples].map((e) => ({
    ...e,
    ci: e.ci ?? { githubRepository: REPO, workflows: ["release-dev.yml"] },
  })),
];

export type Env = keyof typeof CI_ENVIRONMENTS;
export type Policy = { Version: string; Statement: Record<string, any>[] };

export interface Role {
  /** The region of the environment it belongs to: the region its calls name. */
  readonly region?: string;
  readonly name: string;
  readonly arn: string;
  readonly trust: Policy;
  readonly policies: { name: string; policy: Policy }[];
  readonly boundary?: Policy;
}

export interface Resource {
  readonly arn: string;
  readonly tags: Record<string, string>;
  /** The resource policy IAM reads beside the caller's: a key policy, a topic or bucket policy, a role's trust. */
  readonly policy?: Policy;
}

/** AWS's managed policy the RDS monitoring role carries (its documented content), as IAM evaluates it. */
const AWS_MANAGED: Record<string, Policy> = {
  "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole": {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "EnableCreationAndManagementOfRDSCloudwatchLogGroups",
        Effect: "Allow",
        Action: ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
        Resource: ["arn:aws:logs:*:*:log-group:RDS*"],
      },
      {
        Sid: "EnableCreationAndManagementOfRDSCloudwatchLogStreams",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents"],
        Resource: ["arn:aws:logs:*:*:log-group:RDS*:log-stream:*"],
      },
    ],
  },
};

/** A made-up id for a resource, stable for its Terraform address. */
const id = (address: string, length: number) => createHash("sha256").update(address).digest("hex").slice(0, length);
const uuid = (address: string) => {
  const h = id(address, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** One environment's synthesized Terraform, with references resolved. */
export class Environment {
  readonly tf: TfJson;
  /** `<project>-<name>`, as the settings make it. */
  readonly prefix: string;
  readonly project: string;
  readonly region: string;
  /** Whether the environment has a database (cases about its secret and key apply only then). */
  readonly hasDatabase: boolean;

  constructor(
    readonly env: Env,
    tf?: TfJson,
  ) {
    const config = parseSettings(CI_ENVIRONMENTS[env]);
    this.tf = tf ?? synth(CI_ENVIRONMENTS[env], { offline: true });
    this.prefix = resourcePrefix(CI_ENVIRONMENTS[env]);
    this.project = config.project;
    this.region = config.region;
    this.hasDatabase = config.database.enabled;
  }

  get tags(): Record<string, string> {
    return { Project: this.project, Environment: this.env, ManagedBy: "cdktf" };
  }

  /** The attribute a Terraform reference names, as AWS would fill it in. */
  attribute(type: string, name: string, attr: string): string {
    const body = this.tf.resource[type]?.[name];
    if (!body) throw new Error(`${this.env}: no ${type}.${name}`);
    const address = `${this.env}/${type}.${name}`;
    const a = `arn:aws`;
    const arns: Record<string, () => string> = {
      aws_iam_role: () => `${a}:iam::${ACCOUNT}:role/${body.name}`,
      aws_iam_policy: () => `${a}:iam::${ACCOUNT}:policy/${body.name}`,
      aws_iam_openid_connect_provider: () => OIDC_PROVIDER,
      aws_cloudwatch_log_group: () => `${a}:logs:${this.region}:${ACCOUNT}:log-group:${body.name}`,
      aws_ecr_repository: () => `${a}:ecr:${this.region}:${ACCOUNT}:repository/${body.name}`,
      aws_kms_key: () => `${a}:kms:${this.region}:${ACCOUNT}:key/${uuid(address)}`,
      aws_sns_topic: () => `${a}:sns:${this.region}:${ACCOUNT}:${body.name}`,
      aws_s3_bucket: () => `${a}:s3:::${body.bucket_prefix}${id(address, 26)}`,
      aws_ecs_cluster: () => `${a}:ecs:${this.region}:${ACCOUNT}:cluster/${body.name}`,
      aws_lb: () => `${a}:elasticloadbalancing:${this.region}:${ACCOUNT}:loadbalancer/app/${body.name}/${id(address, 16)}`,
      aws_lb_target_group: () => `${a}:elasticloadbalancing:${this.region}:${ACCOUNT}:targetgroup/${body.name}/${id(address, 16)}`,
      aws_wafv2_web_acl: () => `${a}:wafv2:${this.region}:${ACCOUNT}:regional/webacl/${body.name}/${uuid(address)}`,
      aws_db_instance: () => `${a}:rds:${this.region}:${ACCOUNT}:db:${body.identifier}`,
      aws_security_group: () => `${a}:ec2:${this.region}:${ACCOUNT}:security-group/sg-${id(address, 17)}`,
      aws_vpc: () => `${a}:ec2:${this.region}:${ACCOUNT}:vpc/vpc-${id(address, 17)}`,
      aws_route_table: () => `${a}:ec2:${this.region}:${ACCOUNT}:route-table/rtb-${id(address, 17)}`,
      aws_cloudwatch_event_rule: () => `${a}:events:${this.region}:${ACCOUNT}:rule/${body.name}`,
      aws_cloudwatch_metric_alarm: () => `${a}:cloudwatch:${this.region}:${ACCOUNT}:alarm:${body.alarm_name}`,
      aws_acm_certificate: () => `${a}:acm:${this.region}:${ACCOUNT}:certificate/${uuid(address)}`,
      aws_sqs_queue: () => `${a}:sqs:${this.region}:${ACCOUNT}:${body.name}`,
      aws_ecs_task_definition: () => `${a}:ecs:${this.region}:${ACCOUNT}:task-definition/${body.family}:1`,
      aws_scheduler_schedule: () => `${a}:scheduler:${this.region}:${ACCOUNT}:schedule/${body.group_name ?? "default"}/${body.name}`,
      aws_scheduler_schedule_group: () => `${a}:scheduler:${this.region}:${ACCOUNT}:schedule-group/${body.name}`,
      aws_budgets_budget: () => `${a}:budgets::${ACCOUNT}:budget/${body.name}`,
    };
    if (attr === "url" && type === "aws_sqs_queue") return `https://sqs.${this.region}.amazonaws.com/${ACCOUNT}/${body.name}`;
    if (attr === "arn_without_revision" && type === "aws_ecs_task_definition") return `${a}:ecs:${this.region}:${ACCOUNT}:task-definition/${body.family}`;
    if (attr === "arn" && arns[type]) return arns[type]();
    // A kind the table above does not know names its own (a fork's: ResourceKind.arns).
    const own = ResourceKind.of(type)?.arns[type];
    if (attr === "arn" && own) return own(body, { partition: "aws", region: this.region, account: ACCOUNT, unique: (length) => id(address, length) });
    if (attr === "master_user_secret[0].secret_arn" && type === "aws_db_instance")
      return `${a}:secretsmanager:${this.region}:${ACCOUNT}:secret:rds!db-${uuid(address)}-${id(address, 6)}`;
    // The instance's DbiResourceId, which rds-db:connect names: db- and 26 upper-case letters and digits.
    if (attr === "resource_id" && type === "aws_db_instance") return `db-${id(address, 26).toUpperCase()}`;
    if (attr === "name" && body.name !== undefined) return body.name;
    if (attr === "id" && type === "aws_iam_role") return body.name;
    if (attr === "id" && type === "aws_subnet") return `subnet-${id(address, 17)}`;
    throw new Error(`${this.env}: cannot resolve ${type}.${name}.${attr}`);
  }

  /** A document with every `${…}` reference filled in. */
  resolve(text: string): string {
    return text.replace(/\$\{([a-z0-9_]+)\.([A-Za-z0-9_]+)\.([a-z0-9_.[\]]+)\}/g, (_, type, name, attr) => this.attribute(type, name, attr));
  }

  policy(text: string): Policy {
    return JSON.parse(this.resolve(text));
  }

  /** Resources of a type, with their Terraform names. */
  all(type: string): [string, Record<string, any>][] {
    return Object.entries(this.tf.resource[type] ?? {});
  }

  /** The one resource of a type whose body matches (or the only one). */
  one(type: string, match: (body: Record<string, any>) => boolean = () => true): [string, Record<string, any>] {
    const found = this.all(type).filter(([, body]) => match(body));
    if (found.length !== 1) throw new Error(`${this.env}: ${found.length} ${type} match`);
    return found[0];
  }

  /** A resource of the environment, by type (and a match), with its ARN, tags and resource policy. */
  resource(type: string, match?: (body: Record<string, any>) => boolean): Resource {
    const [name, body] = this.one(type, match);
    const arn = this.attribute(type, name, "arn");
    return { arn, tags: this.tags, policy: this.resourcePolicy(type, name, body) };
  }

  private resourcePolicy(type: string, name: string, body: Record<string, any>): Policy | undefined {
    if (type === "aws_kms_key") return this.policy(body.policy);
    if (type === "aws_iam_role") return this.policy(body.assume_role_policy);
    const ref = `\${${type}.${name}.arn}`;
    if (type === "aws_sns_topic") {
      const [, p] = this.one("aws_sns_topic_policy", (p) => p.arn === ref);
      return this.policy(p.policy);
    }
    if (type === "aws_s3_bucket") {
      const [, p] = this.one("aws_s3_bucket_policy", (p) => p.bucket === `\${${type}.${name}.id}`);
      return this.policy(p.policy);
    }
    return undefined;
  }

  /** The environment's database secret (made by RDS: no Terraform resource of its own). */
  secret(): Resource {
    const [name] = this.one("aws_db_instance");
    return { arn: this.attribute("aws_db_instance", name, "master_user_secret[0].secret_arn"), tags: {} };
  }

  /** A role of the environment by its name's ending (`ci-deploy`, `task`, `execution`, …). */
  role(suffix: string): Role {
    const [name, body] = this.one("aws_iam_role", (r) => r.name === `${this.prefix}-${suffix}`);
    const ref = `\${aws_iam_role.${name}`;
    const inline = this.all("aws_iam_role_policy")
      .filter(([, p]) => p.role === `${ref}.id}`)
      .map(([, p]) => ({ name: p.name as string, policy: this.policy(p.policy) }));
    const attached = this.all("aws_iam_role_policy_attachment")
      .filter(([, a]) => a.role === `${ref}.name}`)
      .map(([, a]) => {
        const arn: string = a.policy_arn;
        const local = /^\$\{aws_iam_policy\.([A-Za-z0-9_]+)\.arn\}$/.exec(arn);
        if (local)
          return { name: this.tf.resource.aws_iam_policy[local[1]].name as string, policy: this.policy(this.tf.resource.aws_iam_policy[local[1]].policy) };
        if (!AWS_MANAGED[arn]) throw new Error(`${this.env}: no copy of the managed policy ${arn}`);
        return { name: arn, policy: AWS_MANAGED[arn] };
      });
    return {
      region: this.region,
      name: body.name,
      arn: this.attribute("aws_iam_role", name, "arn"),
      trust: this.policy(body.assume_role_policy),
      policies: [...inline, ...attached],
      boundary: body.permissions_boundary ? this.boundaryPolicy(body.permissions_boundary) : undefined,
    };
  }

  /** The environment's permissions boundary document. */
  boundary(): Policy {
    return this.boundaryPolicy(this.one("aws_iam_policy", (p) => p.name === `${this.prefix}-boundary`)[0]);
  }

  private boundaryPolicy(refOrName: string): Policy {
    const m = /^\$\{aws_iam_policy\.([A-Za-z0-9_]+)\.arn\}$/.exec(refOrName);
    const name = m ? m[1] : refOrName;
    return this.policy(this.tf.resource.aws_iam_policy[name].policy);
  }

  /** The ARN of a resource of this environment that the stack does not make itself, from its name. */
  arn(service: string, resource: string): string {
    return `arn:aws:${service}:${["iam", "s3", "route53"].includes(service) ? "" : this.region}:${["s3", "route53"].includes(service) ? "" : ACCOUNT}:${resource}`;
  }
}

export interface Request {
  readonly principal: Role;
  readonly action: string;
  readonly resource: Resource | string;
  /** Request context beyond what the resource's tags and the region give. */
  readonly context?: Record<string, string | string[]>;
}

/** What IAM answers to a request by a role of the stack: "allow", or "deny" (explicit or implicit). */
export async function evaluate(request: Request): Promise<"allow" | "deny"> {
  const resource: Resource = typeof request.resource === "string" ? { arn: request.resource, tags: {} } : request.resource;
  const tags = Object.fromEntries(Object.entries(resource.tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
  const result = await runSimulation(
    {
      request: {
        principal: request.principal.arn,
        action: request.action,
        resource: { resource: resource.arn, accountId: ACCOUNT },
        contextVariables: {
          // The call goes to the region of the resource it names; IAM, S3 and Route 53 ARNs name none.
          "aws:RequestedRegion": resource.arn.split(":")[3] || request.principal.region || "us-east-1",
          "aws:PrincipalAccount": ACCOUNT,
          "aws:PrincipalArn": request.principal.arn,
          ...tags,
          ...request.context,
        },
      },
      identityPolicies: request.principal.policies,
      permissionBoundaryPolicies: request.principal.boundary ? [{ name: "boundary", policy: request.principal.boundary }] : undefined,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: resource.policy,
    },
    {},
  );
  if (result.resultType === "error") throw new Error(`the evaluator refused the request: ${JSON.stringify(result.errors)}`);
  return result.overallResult === "Allowed" ? "allow" : "deny";
}

/**
 * A request by an AWS service principal or a federated identity, decided by the resource's policy
 * alone (a role's trust, a key policy). Evaluated without the evaluator's input checks, which do not
 * know the keys of a web identity's token (`…:sub`, `…:aud`) or a key's encryption context.
 */
export function evaluateAs(principal: string, action: string, resource: Resource, context: Record<string, string | string[]>): "allow" | "deny" {
  const result = runUnsafeSimulation(
    {
      request: { principal, action, resource: { resource: resource.arn, accountId: ACCOUNT }, contextVariables: context },
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      // Named as the checked path names it: the unchecked path reads a name it does not set itself
      // (iam-policy's "validated policy" shape, of the exact version pinned in package.json).
      resourcePolicy: resource.policy && { __validated: true, policyDocument: resource.policy, metadata: { name: "resource policy" }, errors: [] },
    },
    {},
  );
  return result === "Allowed" ? "allow" : "deny";
}

/**
 * A role the deploy role could write for itself: `*:*` inline, under the environment's boundary. The most
 * any role it makes can get, so what this one is denied, every role of the environment is.
 */
export function writtenRole(env: Environment): Role {
  return {
    region: env.region,
    name: `${env.prefix}-x`,
    arn: `arn:aws:iam::${ACCOUNT}:role/${env.prefix}-x`,
    trust: { Version: "2012-10-17", Statement: [] },
    policies: [{ name: "Everything", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }],
    boundary: env.boundary(),
  };
}
