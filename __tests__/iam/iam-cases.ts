/**
 * The least-privilege table: requests against every role of the synthesized dev and prod, each named
 * and expecting allow or deny, evaluated as IAM would (__tests__/iam/iam-world.ts). docs/security.md
 * lists the groups and their counts; __tests__/iam/least-privilege.test.ts holds it to them.
 */
import { ACCOUNT, Environment, evaluate, evaluateAs, REPO, type Resource, type Role, writtenRole } from "./iam-world";

export interface World {
  readonly dev: Environment;
  readonly prod: Environment;
}

export type Outcome = "allow" | "deny";

export interface Case {
  readonly group: string;
  readonly name: string;
  readonly expect: Outcome;
  readonly run: (w: World) => Promise<Outcome> | Outcome;
  /** What the environments must have for the case to apply. @default nothing */
  readonly needs?: "database" | "certificate";
}

/** Whether a case applies to these environments (a fork without a database has no database cases). */
export function applies(c: Case, w: World): boolean {
  if (c.needs === "database") return w.dev.hasDatabase && w.prod.hasDatabase;
  if (c.needs === "certificate") return w.prod.all("aws_acm_certificate").length > 0;
  return true;
}

export const GROUPS = {
  escalation: "The deploy role cannot escalate",
  crossEnvironment: "dev's deploy role against prod",
  production: "prod's deploy role deletes no data",
  execution: "Execution role",
  task: "Task role (issue Game day)",
  trust: "Who may assume each role",
  resourcePolicies: "Key and topic policies",
  pipeline: "What a release needs (the CI role)",
  foundation: "A release changes nothing that grants or protects (issue 30)",
  exceptions: "Known exceptions (AWS cannot scope them)",
  tracing: "Traces (issue 34)",
  database: "The app's database login (issue 30)",
} as const;

const tagged = (env: Environment) => ({ "aws:RequestTag/Project": env.project, "aws:RequestTag/Environment": env.env });
const boundaryArn = (env: Environment) => `arn:aws:iam::${ACCOUNT}:policy/${env.prefix}-boundary`;
const ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess";
const ci = (env: Environment) => env.role("ci-deploy");
const roleResource = (env: Environment, suffix: string): Resource => ({ arn: env.role(suffix).arn, tags: env.tags });
/** A role the deploy role wrote for itself (see writtenRole). */
const written = writtenRole;
const service = (env: Environment) => ({ arn: `arn:aws:ecs:${env.region}:${ACCOUNT}:service/${env.prefix}/${env.prefix}`, tags: env.tags });
/** What UpdateService evaluates of a release of the default API: its cluster, the revision it names, its subnets. */
const releaseOf = (env: Environment, to: Environment = env, subnetsOf: Environment = env) => ({
  "ecs:cluster": `arn:aws:ecs:${env.region}:${ACCOUNT}:cluster/${env.prefix}`,
  "ecs:task-definition": `arn:aws:ecs:${to.region}:${ACCOUNT}:task-definition/${to.prefix}:9`,
  "ecs:subnet": (subnetsOf.one("aws_ecs_service", (s) => s.name === subnetsOf.prefix)[1].network_configuration.subnets as string[]).map((s) =>
    subnetsOf.resolve(s),
  ),
});
const appLogGroup = (env: Environment) => env.resource("aws_cloudwatch_log_group", (g) => g.name === `/ecs/${env.prefix}`);
const envKey = (env: Environment) => env.resource("aws_kms_key", (k) => k.description === `${env.prefix} environment key`);
const dbKey = (env: Environment) => env.resource("aws_kms_key", (k) => String(k.description).startsWith(`${env.prefix} database`));
const tasksGroup = (env: Environment) => env.resource("aws_security_group", (g) => g.name === `${env.prefix}-tasks`);
const state = (env: Environment) => `arn:aws:s3:::acme-terraform-state/${env.project}/${env.env}/terraform.tfstate`;
const repository = (env: Environment) => env.resource("aws_ecr_repository");
/** A region other than the environment's. */
const elsewhere = (env: Environment) => (env.region === "eu-west-1" ? "eu-central-1" : "eu-west-1");
const viaSecretsManager = (env: Environment) => ({ "kms:ViaService": `secretsmanager.${env.region}.amazonaws.com` });

/** A request by a role: `ask(role, action, resource, context)`. */
const ask = (principal: Role, action: string, resource: Resource | string, context?: Record<string, string | string[]>) =>
  evaluate({ principal, action, resource, context });

function c(group: keyof typeof GROUPS, name: string, expect: Outcome, run: Case["run"]): Case {
  return { group: GROUPS[group], name, expect, run };
}

/** A case about prod's certificate: it applies where the stack makes one (not with `https.certificateArn`). */
function certificateCase(group: keyof typeof GROUPS, name: string, expect: Outcome, run: Case["run"]): Case {
  return { ...c(group, name, expect, run), needs: "certificate" };
}

/** A case about the database (its secret, key, instance or monitoring role): it applies where dev and prod both have one. */
function dbCase(group: keyof typeof GROUPS, name: string, expect: Outcome, run: Case["run"]): Case {
  return { ...c(group, name, expect, run), needs: "database" };
}

/** Cases for each environment's own roles. */
function perEnvironment(e: "dev" | "prod"): Case[] {
  const on = (w: World) => w[e];
  const x = (name: string) => `${e}: ${name}`;
  return [
    // The deploy role cannot escalate.
    c("escalation", x("creates a role without the boundary"), "deny", (w) =>
      ask(ci(on(w)), "iam:CreateRole", on(w).arn("iam", `role/${on(w).prefix}-x`), tagged(on(w))),
    ),
    c("escalation", x("creates a role with AdministratorAccess as its boundary"), "deny", (w) =>
      ask(ci(on(w)), "iam:CreateRole", on(w).arn("iam", `role/${on(w).prefix}-x`), { ...tagged(on(w)), "iam:PermissionsBoundary": ADMIN }),
    ),
    c("escalation", x("creates a role with the boundary but without the environment's tags"), "deny", (w) =>
      ask(ci(on(w)), "iam:CreateRole", on(w).arn("iam", `role/${on(w).prefix}-x`), { "iam:PermissionsBoundary": boundaryArn(on(w)) }),
    ),
    c("escalation", x("creates a role outside its name prefix"), "deny", (w) =>
      ask(ci(on(w)), "iam:CreateRole", on(w).arn("iam", "role/admin"), { ...tagged(on(w)), "iam:PermissionsBoundary": boundaryArn(on(w)) }),
    ),
    c("escalation", x("writes an inline policy on a role without the boundary"), "deny", (w) =>
      ask(ci(on(w)), "iam:PutRolePolicy", { arn: on(w).arn("iam", `role/${on(w).prefix}-legacy`), tags: on(w).tags }),
    ),
    c("escalation", x("removes the task role's boundary"), "deny", (w) =>
      ask(ci(on(w)), "iam:DeleteRolePermissionsBoundary", roleResource(on(w), "task"), { "iam:PermissionsBoundary": boundaryArn(on(w)) }),
    ),
    c("escalation", x("swaps the task role's boundary for AdministratorAccess"), "deny", (w) =>
      ask(ci(on(w)), "iam:PutRolePermissionsBoundary", roleResource(on(w), "task"), { "iam:PermissionsBoundary": ADMIN }),
    ),
    c("escalation", x("edits the boundary"), "deny", (w) => ask(ci(on(w)), "iam:CreatePolicyVersion", boundaryArn(on(w)))),
    c("escalation", x("deletes the boundary"), "deny", (w) => ask(ci(on(w)), "iam:DeletePolicy", boundaryArn(on(w)))),
    c("escalation", x("attaches AdministratorAccess to the task role"), "deny", (w) =>
      ask(ci(on(w)), "iam:AttachRolePolicy", roleResource(on(w), "task"), { "iam:PermissionsBoundary": boundaryArn(on(w)), "iam:PolicyARN": ADMIN }),
    ),
    c("escalation", x("hands the task role to EC2"), "deny", (w) =>
      ask(ci(on(w)), "iam:PassRole", roleResource(on(w), "task"), { "iam:PassedToService": "ec2.amazonaws.com" }),
    ),
    c("escalation", x("hands the task role to Lambda"), "deny", (w) =>
      ask(ci(on(w)), "iam:PassRole", roleResource(on(w), "task"), { "iam:PassedToService": "lambda.amazonaws.com" }),
    ),
    c("escalation", x("hands itself to ECS tasks"), "deny", (w) =>
      ask(ci(on(w)), "iam:PassRole", roleResource(on(w), "ci-deploy"), { "iam:PassedToService": "ecs-tasks.amazonaws.com" }),
    ),
    c("escalation", x("rewrites its own trust"), "deny", (w) => ask(ci(on(w)), "iam:UpdateAssumeRolePolicy", roleResource(on(w), "ci-deploy"))),
    c("escalation", x("adds an inline policy to itself"), "deny", (w) => ask(ci(on(w)), "iam:PutRolePolicy", roleResource(on(w), "ci-deploy"))),
    c("escalation", x("edits its own managed policy"), "deny", (w) =>
      ask(ci(on(w)), "iam:CreatePolicyVersion", on(w).arn("iam", `policy/${on(w).prefix}-ci-deploy-1`)),
    ),
    c("escalation", x("adds an audience to the GitHub OIDC provider"), "deny", (w) =>
      ask(ci(on(w)), "iam:AddClientIDToOpenIDConnectProvider", `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`),
    ),
    c("escalation", x("assumes the task role"), "deny", (w) => ask(ci(on(w)), "sts:AssumeRole", roleResource(on(w), "task"))),
    c("escalation", x("creates an IAM user"), "deny", (w) => ask(ci(on(w)), "iam:CreateUser", on(w).arn("iam", "user/ci-backdoor"))),
    c("escalation", x("a role it wrote with *:* creates a role"), "deny", (w) =>
      ask(written(on(w)), "iam:CreateRole", on(w).arn("iam", "role/backdoor"), { "iam:PermissionsBoundary": boundaryArn(on(w)) }),
    ),
    c("escalation", x("a role it wrote with *:* reads the Terraform state"), "deny", (w) => ask(written(on(w)), "s3:GetObject", state(on(w)))),
    c("escalation", x("a role it wrote with *:* changes the service"), "deny", (w) => ask(written(on(w)), "ecs:UpdateService", service(on(w)))),
    c("escalation", x("a role it wrote with *:* schedules the key's deletion"), "deny", (w) => ask(written(on(w)), "kms:ScheduleKeyDeletion", envKey(on(w)))),
    dbCase("escalation", x("a role it wrote with *:* reads the database login (no more than the API's execution role)"), "allow", (w) =>
      ask(written(on(w)), "secretsmanager:GetSecretValue", on(w).secret()),
    ),

    // Execution role.
    c("execution", x("pulls the environment's image"), "allow", (w) => ask(on(w).role("execution"), "ecr:BatchGetImage", repository(on(w)))),
    c("execution", x("pulls an image of another repository"), "deny", (w) =>
      ask(on(w).role("execution"), "ecr:BatchGetImage", on(w).arn("ecr", "repository/some-other-app")),
    ),
    c("execution", x("writes its log stream"), "allow", (w) =>
      ask(on(w).role("execution"), "logs:PutLogEvents", `${appLogGroup(on(w)).arn}:log-stream:app/app/1`),
    ),
    c("execution", x("reads another secret"), "deny", (w) =>
      ask(on(w).role("execution"), "secretsmanager:GetSecretValue", on(w).arn("secretsmanager", "secret:payments-api-key-AbCdEf")),
    ),

    // Task role: what issue Game day gives it, and nothing beyond.
    // The app logs in with an IAM token as its own role (__tests__/iam/database-cases.ts): no secret to read.
    dbCase("task", x("decrypts the master secret with the database key through Secrets Manager"), "deny", (w) =>
      ask(on(w).role("task"), "kms:Decrypt", dbKey(on(w)), viaSecretsManager(on(w))),
    ),
    dbCase("task", x("decrypts with the database key directly"), "deny", (w) => ask(on(w).role("task"), "kms:Decrypt", dbKey(on(w)))),
    c("task", x("the task role reads another secret"), "deny", (w) =>
      ask(on(w).role("task"), "secretsmanager:GetSecretValue", on(w).arn("secretsmanager", "secret:payments-api-key-AbCdEf")),
    ),
    dbCase("task", x("changes the database secret"), "deny", (w) => ask(on(w).role("task"), "secretsmanager:PutSecretValue", on(w).secret())),
    dbCase("task", x("rotates the database secret"), "deny", (w) => ask(on(w).role("task"), "secretsmanager:RotateSecret", on(w).secret())),
    c("task", x("decrypts with the environment key"), "deny", (w) => ask(on(w).role("task"), "kms:Decrypt", envKey(on(w)))),
    dbCase("task", x("connects to the database with an IAM token"), "deny", (w) =>
      ask(on(w).role("task"), "rds-db:connect", on(w).arn("rds-db", `dbuser:db-ABCDEFGHIJKL/app_admin`)),
    ),
    c("task", x("reads the Terraform state"), "deny", (w) => ask(on(w).role("task"), "s3:GetObject", state(on(w)))),
    c("task", x("changes its own service"), "deny", (w) => ask(on(w).role("task"), "ecs:UpdateService", service(on(w)))),
    c("task", x("pushes an image"), "deny", (w) => ask(on(w).role("task"), "ecr:PutImage", repository(on(w)))),

    // The pipeline's own calls.
    c("pipeline", x("logs in to ECR"), "allow", (w) => ask(ci(on(w)), "ecr:GetAuthorizationToken", "*")),
    c("pipeline", x("pushes to its repository"), "allow", (w) => ask(ci(on(w)), "ecr:PutImage", repository(on(w)))),
    c("pipeline", x("registers a task definition, tagged"), "allow", (w) =>
      ask(ci(on(w)), "ecs:RegisterTaskDefinition", on(w).arn("ecs", `task-definition/${on(w).prefix}:8`), tagged(on(w))),
    ),
    c("pipeline", x("hands the execution role to ECS tasks"), "allow", (w) =>
      ask(ci(on(w)), "iam:PassRole", roleResource(on(w), "execution"), { "iam:PassedToService": "ecs-tasks.amazonaws.com" }),
    ),
    c("pipeline", x("hands the task role to ECS tasks"), "allow", (w) =>
      ask(ci(on(w)), "iam:PassRole", roleResource(on(w), "task"), { "iam:PassedToService": "ecs-tasks.amazonaws.com" }),
    ),
    c("pipeline", x("reads its service (refresh)"), "allow", (w) => ask(ci(on(w)), "ecs:DescribeServices", service(on(w)))),
    c("pipeline", x("reads and writes the state"), "allow", (w) => ask(ci(on(w)), "s3:PutObject", state(on(w)))),
    c("pipeline", x("takes the state lock"), "allow", (w) => ask(ci(on(w)), "s3:PutObject", `${state(on(w))}.tflock`)),
    dbCase("pipeline", x("reads the database (refresh)"), "allow", (w) => ask(ci(on(w)), "rds:DescribeDBInstances", on(w).resource("aws_db_instance"))),
    c("pipeline", x("reads the key policy (refresh)"), "allow", (w) => ask(ci(on(w)), "kms:GetKeyPolicy", envKey(on(w)))),
    c("pipeline", x("reads the task role (refresh)"), "allow", (w) => ask(ci(on(w)), "iam:GetRole", roleResource(on(w), "task"))),
    c("pipeline", x("reads the boundary (refresh)"), "allow", (w) => ask(ci(on(w)), "iam:GetPolicyVersion", boundaryArn(on(w)))),
    c("pipeline", x("updates its service to a new revision, in its cluster and subnets"), "allow", (w) =>
      ask(ci(on(w)), "ecs:UpdateService", service(on(w)), releaseOf(on(w))),
    ),
    dbCase("pipeline", x("reads its database by resource id, as the provider's refresh does (db:*)"), "allow", (w) =>
      ask(ci(on(w)), "rds:DescribeDBInstances", on(w).arn("rds", "db:*")),
    ),
    c("pipeline", x("releases the state lock"), "allow", (w) => ask(ci(on(w)), "s3:DeleteObject", `${state(on(w))}.tflock`)),
    c("pipeline", x("points a scaling alarm at its own service's scaling policy"), "allow", (w) =>
      ask(ci(on(w)), "cloudwatch:PutMetricAlarm", on(w).arn("cloudwatch", `alarm:TargetTracking-service/${on(w).prefix}/${on(w).prefix}-AlarmHigh-1`), {
        "cloudwatch:AlarmActions": [on(w).arn("autoscaling", `scalingPolicy:0123:resource/ecs/service/${on(w).prefix}/${on(w).prefix}:policyName/cpu`)],
      }),
    ),
    c("pipeline", x("retires the old task definition revision"), "allow", (w) => ask(ci(on(w)), "ecs:DeregisterTaskDefinition", "*")),
    c("pipeline", x("runs the release's migration as a one-off task in its cluster"), "allow", (w) =>
      ask(ci(on(w)), "ecs:RunTask", on(w).arn("ecs", `task-definition/${on(w).prefix}:9`), { "ecs:cluster": on(w).arn("ecs", `cluster/${on(w).prefix}`) }),
    ),
    c("pipeline", x("changes its service's scaling range"), "allow", (w) =>
      ask(ci(on(w)), "application-autoscaling:RegisterScalableTarget", { arn: on(w).arn("application-autoscaling", "scalable-target/0123"), tags: on(w).tags }),
    ),
    c("pipeline", x("changes an alarm's threshold"), "allow", (w) =>
      ask(ci(on(w)), "cloudwatch:PutMetricAlarm", { arn: on(w).arn("cloudwatch", `alarm:${on(w).prefix}-http-5xx`), tags: on(w).tags }),
    ),
    c("pipeline", x("reads the roles, the log groups and the network it does not change (refresh)"), "allow", async (w) => {
      const reads: [string, Resource | string][] = [
        ["iam:ListRolePolicies", roleResource(on(w), "execution")],
        ["logs:DescribeLogGroups", "*"],
        ["ec2:DescribeSecurityGroups", "*"],
        ["logs:ListTagsForResource", appLogGroup(on(w))],
        ["ecr:DescribeRepositories", repository(on(w))],
      ];
      for (const [action, resource] of reads) if ((await ask(ci(on(w)), action, resource)) === "deny") return "deny";
      return "allow";
    }),

    // Two kinds of change: what grants or protects is the administrator's, so a release (or a dependency
    // run during it) can neither mint access nor weaken what keeps data (docs/security.md, "Two kinds of change").
    c("foundation", x("creates a role with the boundary, tagged, trusted by another account"), "deny", (w) =>
      ask(ci(on(w)), "iam:CreateRole", on(w).arn("iam", `role/${on(w).prefix}-x`), { ...tagged(on(w)), "iam:PermissionsBoundary": boundaryArn(on(w)) }),
    ),
    c("foundation", x("rewrites the task role's trust to admit another account"), "deny", (w) =>
      ask(ci(on(w)), "iam:UpdateAssumeRolePolicy", roleResource(on(w), "task"), { "iam:PermissionsBoundary": boundaryArn(on(w)) }),
    ),
    c("foundation", x("writes the task role's inline policy, under the boundary"), "deny", (w) =>
      ask(ci(on(w)), "iam:PutRolePolicy", roleResource(on(w), "task"), { "iam:PermissionsBoundary": boundaryArn(on(w)) }),
    ),
    c("foundation", x("shortens a log group's retention"), "deny", (w) => ask(ci(on(w)), "logs:PutRetentionPolicy", appLogGroup(on(w)))),
    c("foundation", x("expires every image with a lifecycle policy"), "deny", (w) => ask(ci(on(w)), "ecr:PutLifecyclePolicy", repository(on(w)))),
    dbCase("foundation", x("sets the database's backup retention to 0 (deletes its automated backups)"), "deny", (w) =>
      ask(ci(on(w)), "rds:ModifyDBInstance", on(w).resource("aws_db_instance")),
    ),
    dbCase("foundation", x("deletes its database"), "deny", (w) => ask(ci(on(w)), "rds:DeleteDBInstance", on(w).resource("aws_db_instance"))),
    c("foundation", x("rewrites the key policy"), "deny", (w) => ask(ci(on(w)), "kms:PutKeyPolicy", envKey(on(w)))),
    c("foundation", x("opens a port on its tasks' security group"), "deny", (w) => ask(ci(on(w)), "ec2:AuthorizeSecurityGroupIngress", tasksGroup(on(w)))),
    c("foundation", x("creates a security group, tagged, in its VPC"), "deny", (w) =>
      ask(ci(on(w)), "ec2:CreateSecurityGroup", on(w).arn("ec2", "security-group/*"), tagged(on(w))),
    ),
    c("foundation", x("creates a log group, tagged"), "deny", (w) =>
      ask(ci(on(w)), "logs:CreateLogGroup", on(w).arn("logs", `log-group:/ecs/${on(w).prefix}-worker`), tagged(on(w))),
    ),
    c("foundation", x("points the load balancer's listener elsewhere"), "deny", (w) =>
      ask(ci(on(w)), "elasticloadbalancing:ModifyListener", {
        arn: on(w).arn("elasticloadbalancing", `listener/app/${on(w).prefix}/0123456789abcdef/0123456789abcdef`),
        tags: on(w).tags,
      }),
    ),
    c("foundation", x("turns off the load balancer's deletion protection"), "deny", (w) =>
      ask(ci(on(w)), "elasticloadbalancing:ModifyLoadBalancerAttributes", on(w).resource("aws_lb")),
    ),
    c("foundation", x("subscribes another address to the alarm topic"), "deny", (w) => ask(ci(on(w)), "sns:Subscribe", on(w).resource("aws_sns_topic"))),
    c("foundation", x("writes the account's log resource policies"), "deny", (w) => ask(ci(on(w)), "logs:PutResourcePolicy", "*")),
    // Nothing a release makes may run on unknown to the stack (a reviewer found these in issue 30's design).
    c("foundation", x("creates a service the stack does not know, with the environment's roles"), "deny", (w) =>
      ask(ci(on(w)), "ecs:CreateService", `arn:aws:ecs:${on(w).region}:${ACCOUNT}:service/${on(w).prefix}/${on(w).prefix}-backdoor`, tagged(on(w))),
    ),
    c("foundation", x("creates a schedule the stack does not know"), "deny", (w) =>
      ask(ci(on(w)), "scheduler:CreateSchedule", on(w).arn("scheduler", `schedule/${on(w).prefix}/${on(w).prefix}-hidden`)),
    ),
    c("foundation", x("registers a privileged task definition (root on an EC2 host)"), "deny", (w) =>
      ask(ci(on(w)), "ecs:RegisterTaskDefinition", on(w).arn("ecs", `task-definition/${on(w).prefix}:9`), { ...tagged(on(w)), "ecs:privileged": "true" }),
    ),
    c("foundation", x("registers a revision of a family the stack does not know"), "deny", (w) =>
      ask(ci(on(w)), "ecs:RegisterTaskDefinition", on(w).arn("ecs", "task-definition/miner:1"), tagged(on(w))),
    ),
    c("foundation", x("points an alarm at another account's topic"), "deny", (w) =>
      ask(
        ci(on(w)),
        "cloudwatch:PutMetricAlarm",
        { arn: on(w).arn("cloudwatch", `alarm:${on(w).prefix}-cpu`), tags: on(w).tags },
        {
          "cloudwatch:AlarmActions": ["arn:aws:sns:us-east-1:210987654321:exfiltrate"],
        },
      ),
    ),
    c("foundation", x("gives its tasks a public IP in another subnet"), "deny", (w) =>
      ask(ci(on(w)), "ecs:UpdateService", service(on(w)), { ...releaseOf(on(w)), "ecs:subnet": ["subnet-0123456789abcdef0"] }),
    ),
    c("foundation", x("deletes the Terraform state"), "deny", (w) => ask(ci(on(w)), "s3:DeleteObject", state(on(w)))),
    c("foundation", x("creates a service-linked role"), "deny", (w) =>
      ask(ci(on(w)), "iam:CreateServiceLinkedRole", on(w).arn("iam", "role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"), {
        "iam:AWSServiceName": "ecs.amazonaws.com",
      }),
    ),
  ];
}

/** dev's deploy role against each of prod's resources. */
function crossEnvironment(): Case[] {
  const x = (name: string) => `dev's deploy role ${name}`;
  const devCi = (w: World) => ci(w.dev);
  return [
    c("crossEnvironment", x("updates prod's service"), "deny", (w) => ask(devCi(w), "ecs:UpdateService", service(w.prod))),
    c("crossEnvironment", x("runs prod's task definition in its own service"), "deny", (w) =>
      ask(devCi(w), "ecs:UpdateService", service(w.dev), releaseOf(w.dev, w.prod)),
    ),
    c("crossEnvironment", x("moves its service into prod's subnets"), "deny", (w) =>
      ask(devCi(w), "ecs:UpdateService", service(w.dev), releaseOf(w.dev, w.dev, w.prod)),
    ),
    c("crossEnvironment", x("creates a service in prod's cluster"), "deny", (w) =>
      ask(devCi(w), "ecs:CreateService", `arn:aws:ecs:${w.prod.region}:${ACCOUNT}:service/${w.prod.prefix}/${w.dev.prefix}-backdoor`, tagged(w.dev)),
    ),
    c("crossEnvironment", x("points an alarm at prod's scaling policy"), "deny", (w) =>
      ask(
        devCi(w),
        "cloudwatch:PutMetricAlarm",
        { arn: w.dev.arn("cloudwatch", `alarm:${w.dev.prefix}-cpu`), tags: w.dev.tags },
        {
          "cloudwatch:AlarmActions": [w.prod.arn("autoscaling", `scalingPolicy:0123:resource/ecs/service/${w.prod.prefix}/${w.prod.prefix}:policyName/cpu`)],
        },
      ),
    ),
    c("crossEnvironment", x("deletes prod's service"), "deny", (w) => ask(devCi(w), "ecs:DeleteService", service(w.prod))),
    c("crossEnvironment", x("deletes prod's cluster"), "deny", (w) => ask(devCi(w), "ecs:DeleteCluster", w.prod.resource("aws_ecs_cluster"))),
    dbCase("crossEnvironment", x("turns off prod's deletion protection or resets its database password"), "deny", (w) =>
      ask(devCi(w), "rds:ModifyDBInstance", w.prod.resource("aws_db_instance")),
    ),
    dbCase("crossEnvironment", x("deletes prod's database"), "deny", (w) => ask(devCi(w), "rds:DeleteDBInstance", w.prod.resource("aws_db_instance"))),
    c("crossEnvironment", x("schedules prod's key for deletion"), "deny", (w) => ask(devCi(w), "kms:ScheduleKeyDeletion", envKey(w.prod))),
    dbCase("crossEnvironment", x("schedules prod's database key for deletion"), "deny", (w) => ask(devCi(w), "kms:ScheduleKeyDeletion", dbKey(w.prod))),
    c("crossEnvironment", x("rewrites prod's key policy"), "deny", (w) => ask(devCi(w), "kms:PutKeyPolicy", envKey(w.prod))),
    c("crossEnvironment", x("turns off prod's load balancer deletion protection"), "deny", (w) =>
      ask(devCi(w), "elasticloadbalancing:ModifyLoadBalancerAttributes", w.prod.resource("aws_lb")),
    ),
    c("crossEnvironment", x("deletes prod's load balancer"), "deny", (w) =>
      ask(devCi(w), "elasticloadbalancing:DeleteLoadBalancer", w.prod.resource("aws_lb")),
    ),
    c("crossEnvironment", x("opens prod's tasks' security group"), "deny", (w) => ask(devCi(w), "ec2:AuthorizeSecurityGroupIngress", tasksGroup(w.prod))),
    c("crossEnvironment", x("adds a route to prod's route table"), "deny", (w) =>
      ask(
        devCi(w),
        "ec2:CreateRoute",
        w.prod.resource("aws_route_table", (t) => t.tags?.Name === `${w.prod.prefix}-public`),
      ),
    ),
    c("crossEnvironment", x("creates a subnet, tagged dev, in prod's VPC"), "deny", (w) =>
      ask(devCi(w), "ec2:CreateSubnet", w.prod.resource("aws_vpc"), tagged(w.dev)),
    ),
    c("crossEnvironment", x("deletes prod's log group"), "deny", (w) => ask(devCi(w), "logs:DeleteLogGroup", appLogGroup(w.prod))),
    c("crossEnvironment", x("shortens prod's log retention"), "deny", (w) => ask(devCi(w), "logs:PutRetentionPolicy", appLogGroup(w.prod))),
    c("crossEnvironment", x("deletes prod's web ACL"), "deny", (w) => ask(devCi(w), "wafv2:DeleteWebACL", w.prod.resource("aws_wafv2_web_acl"))),
    c("crossEnvironment", x("puts its web ACL on prod's load balancer"), "deny", (w) => ask(devCi(w), "wafv2:AssociateWebACL", w.prod.resource("aws_lb").arn)),
    c("crossEnvironment", x("writes prod's task role's policy"), "deny", (w) =>
      ask(devCi(w), "iam:PutRolePolicy", roleResource(w.prod, "task"), { "iam:PermissionsBoundary": boundaryArn(w.prod) }),
    ),
    c("crossEnvironment", x("hands prod's task role to ECS tasks"), "deny", (w) =>
      ask(devCi(w), "iam:PassRole", roleResource(w.prod, "task"), { "iam:PassedToService": "ecs-tasks.amazonaws.com" }),
    ),
    c("crossEnvironment", x("pushes an image to prod's repository"), "deny", (w) => ask(devCi(w), "ecr:PutImage", repository(w.prod))),
    c("crossEnvironment", x("deletes prod's repository"), "deny", (w) => ask(devCi(w), "ecr:DeleteRepository", repository(w.prod))),
    c("crossEnvironment", x("subscribes to prod's alarm topic"), "deny", (w) => ask(devCi(w), "sns:Subscribe", w.prod.resource("aws_sns_topic"))),
    c("crossEnvironment", x("redirects prod's service events"), "deny", (w) =>
      ask(devCi(w), "events:PutTargets", w.prod.resource("aws_cloudwatch_event_rule")),
    ),
    c("crossEnvironment", x("deletes prod's alarms"), "deny", (w) =>
      ask(
        devCi(w),
        "cloudwatch:DeleteAlarms",
        w.prod.resource("aws_cloudwatch_metric_alarm", (a) => a.alarm_name === `${w.prod.prefix}-http-5xx`),
      ),
    ),
    c("crossEnvironment", x("rewrites prod's access log bucket policy"), "deny", (w) => ask(devCi(w), "s3:PutBucketPolicy", w.prod.resource("aws_s3_bucket"))),
    c("crossEnvironment", x("reads prod's state"), "deny", (w) => ask(devCi(w), "s3:GetObject", state(w.prod))),
    dbCase("crossEnvironment", x("reads prod's database secret"), "deny", (w) => ask(devCi(w), "secretsmanager:GetSecretValue", w.prod.secret())),
    dbCase("crossEnvironment", x("deletes prod's database secret directly"), "deny", (w) => ask(devCi(w), "secretsmanager:DeleteSecret", w.prod.secret())),
    certificateCase("crossEnvironment", x("deletes prod's certificate"), "deny", (w) =>
      ask(devCi(w), "acm:DeleteCertificate", w.prod.resource("aws_acm_certificate")),
    ),
    c("crossEnvironment", x("retags prod's service as dev"), "deny", (w) => ask(devCi(w), "ecs:TagResource", service(w.prod), tagged(w.dev))),
    c("crossEnvironment", x("changes prod's DNS"), "deny", (w) =>
      ask(devCi(w), "route53:ChangeResourceRecordSets", w.prod.arn("route53", "hostedzone/Z0EXAMPLE0REPLACEME0")),
    ),
    c("crossEnvironment", x("edits prod's boundary"), "deny", (w) => ask(devCi(w), "iam:CreatePolicyVersion", boundaryArn(w.prod))),
    dbCase("crossEnvironment", x("decrypts prod's database secret with a role it wrote"), "deny", (w) =>
      ask(written(w.dev), "kms:Decrypt", dbKey(w.prod), viaSecretsManager(w.prod)),
    ),
    c("crossEnvironment", x("deploys in another region"), "deny", (w) =>
      ask(
        devCi(w),
        "ecs:UpdateService",
        { ...service(w.dev), arn: service(w.dev).arn.replace(w.dev.region, elsewhere(w.dev)) },
        { "aws:RequestedRegion": elsewhere(w.dev) },
      ),
    ),
    dbCase("crossEnvironment", "prod's task role reads dev's database secret", "deny", (w) =>
      ask(w.prod.role("task"), "secretsmanager:GetSecretValue", w.dev.secret()),
    ),
    dbCase("crossEnvironment", "dev's task role reads prod's database secret", "deny", (w) =>
      ask(w.dev.role("task"), "secretsmanager:GetSecretValue", w.prod.secret()),
    ),
    dbCase("crossEnvironment", "dev's task role decrypts with prod's database key", "deny", (w) =>
      ask(w.dev.role("task"), "kms:Decrypt", dbKey(w.prod), viaSecretsManager(w.prod)),
    ),
    c("crossEnvironment", "dev's execution role pulls prod's image", "deny", (w) => ask(w.dev.role("execution"), "ecr:BatchGetImage", repository(w.prod))),
    c("crossEnvironment", "dev's execution role writes to prod's logs", "deny", (w) =>
      ask(w.dev.role("execution"), "logs:PutLogEvents", `${appLogGroup(w.prod).arn}:log-stream:app/app/1`),
    ),
  ];
}

/** prod's deploy role deploys, but deletes nothing that holds data; and it promotes dev's image. */
function production(): Case[] {
  const x = (name: string) => `prod's deploy role ${name}`;
  return [
    c("production", x("schedules its key for deletion"), "deny", (w) => ask(ci(w.prod), "kms:ScheduleKeyDeletion", envKey(w.prod))),
    dbCase("production", x("deletes its database"), "deny", (w) => ask(ci(w.prod), "rds:DeleteDBInstance", w.prod.resource("aws_db_instance"))),
    c("production", x("deletes its repository"), "deny", (w) => ask(ci(w.prod), "ecr:DeleteRepository", repository(w.prod))),
    c("production", x("deletes a log group"), "deny", (w) => ask(ci(w.prod), "logs:DeleteLogGroup", appLogGroup(w.prod))),
    c("production", x("deletes the access log bucket"), "deny", (w) => ask(ci(w.prod), "s3:DeleteBucket", w.prod.resource("aws_s3_bucket"))),
    c("pipeline", "prod: pulls the release from dev's repository to promote it", "allow", (w) => ask(ci(w.prod), "ecr:BatchGetImage", repository(w.dev))),
    c("pipeline", "prod: reads the release's digest in dev's repository", "allow", (w) => ask(ci(w.prod), "ecr:DescribeImages", repository(w.dev))),
    c("crossEnvironment", "prod's deploy role pushes to dev's repository", "deny", (w) => ask(ci(w.prod), "ecr:PutImage", repository(w.dev))),
  ];
}

/** Who may assume each role, and how the key and topic policies answer AWS services. */
function trustAndResourcePolicies(): Case[] {
  const oidc = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
  const token = (sub: string, aud = "sts.amazonaws.com") => ({
    "token.actions.githubusercontent.com:sub": sub,
    "token.actions.githubusercontent.com:aud": aud,
  });
  const jobOf = (env: string, workflow: string, ref = "refs/heads/main") =>
    `repo:${REPO}:environment:${env}:job_workflow_ref:${REPO}/.github/workflows/${workflow}@${ref}`;
  const github = (w: World, env: "dev" | "prod", sub: string, aud?: string) =>
    evaluateAs(
      oidc,
      "sts:AssumeRoleWithWebIdentity",
      w[env].resource("aws_iam_role", (r) => r.name === `${w[env].prefix}-ci-deploy`),
      token(sub, aud),
    );
  const tasks = (w: World, account: string, sourceArn?: string) =>
    evaluateAs(
      "ecs-tasks.amazonaws.com",
      "sts:AssumeRole",
      w.dev.resource("aws_iam_role", (r) => r.name === `${w.dev.prefix}-task`),
      {
        "aws:SourceAccount": account,
        ...(sourceArn ? { "aws:SourceArn": sourceArn } : {}),
      },
    );
  const logsUse = (w: World, logGroup: string) =>
    evaluateAs(`logs.${w.dev.region}.amazonaws.com`, "kms:GenerateDataKey", envKey(w.dev), {
      "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${w.dev.region}:${ACCOUNT}:log-group:${logGroup}`,
    });
  const publish = (w: World, account: string, sourceArn: string) =>
    evaluateAs("cloudwatch.amazonaws.com", "sns:Publish", w.prod.resource("aws_sns_topic"), { "aws:SourceAccount": account, "aws:SourceArn": sourceArn });
  const OTHER = "210987654321";
  return [
    c("trust", "prod's deploy role from promote-prod.yml on main, in environment prod", "allow", (w) => github(w, "prod", jobOf("prod", "promote-prod.yml"))),
    c("trust", "prod's deploy role from a workflow on a branch", "deny", (w) => github(w, "prod", jobOf("prod", "promote-prod.yml", "refs/heads/feature"))),
    c("trust", "prod's deploy role from another workflow on main", "deny", (w) => github(w, "prod", jobOf("prod", "release-dev.yml"))),
    c("trust", "prod's deploy role from environment dev", "deny", (w) => github(w, "prod", jobOf("dev", "promote-prod.yml"))),
    c("trust", "prod's deploy role from a pull request", "deny", (w) => github(w, "prod", `repo:${REPO}:pull_request`)),
    c("trust", "prod's deploy role from another repository", "deny", (w) =>
      github(w, "prod", jobOf("prod", "promote-prod.yml").replaceAll(REPO, "mallory/rest-api")),
    ),
    c("trust", "prod's deploy role with GitHub's default subject (no workflow named)", "deny", (w) => github(w, "prod", `repo:${REPO}:environment:prod`)),
    c("trust", "prod's deploy role with a token for another audience", "deny", (w) => github(w, "prod", jobOf("prod", "promote-prod.yml"), "api://other")),
    c("trust", "dev's deploy role from release-dev.yml on main, in environment dev", "allow", (w) => github(w, "dev", jobOf("dev", "release-dev.yml"))),
    c("trust", "dev's deploy role from a collaborator's branch", "deny", (w) => github(w, "dev", jobOf("dev", "release-dev.yml", "refs/heads/try-this"))),
    c("trust", "dev's task role by ECS tasks of this account", "allow", (w) =>
      tasks(w, ACCOUNT, `arn:aws:ecs:${w.dev.region}:${ACCOUNT}:task/${w.dev.prefix}/0123`),
    ),
    c("trust", "dev's task role by ECS tasks of another account", "deny", (w) => tasks(w, OTHER, `arn:aws:ecs:${w.dev.region}:${OTHER}:task/x/0123`)),
    c("trust", "dev's task role by ECS with no source named", "deny", (w) => tasks(w, ACCOUNT)),
    c("trust", "prod's flow log role by another account's flow logs", "deny", (w) =>
      evaluateAs(
        "vpc-flow-logs.amazonaws.com",
        "sts:AssumeRole",
        w.prod.resource("aws_iam_role", (r) => r.name === `${w.prod.prefix}-vpc-flow-logs`),
        {
          "aws:SourceAccount": OTHER,
          "aws:SourceArn": `arn:aws:ec2:${w.prod.region}:${OTHER}:vpc-flow-log/fl-0123`,
        },
      ),
    ),
    dbCase("trust", "prod's monitoring role by prod's database", "allow", (w) =>
      evaluateAs(
        "monitoring.rds.amazonaws.com",
        "sts:AssumeRole",
        w.prod.resource("aws_iam_role", (r) => r.name === `${w.prod.prefix}-rds-monitoring`),
        {
          "aws:SourceAccount": ACCOUNT,
          "aws:SourceArn": `arn:aws:rds:${w.prod.region}:${ACCOUNT}:db:${w.prod.prefix}`,
        },
      ),
    ),
    dbCase("trust", "prod's monitoring role by another database", "deny", (w) =>
      evaluateAs(
        "monitoring.rds.amazonaws.com",
        "sts:AssumeRole",
        w.prod.resource("aws_iam_role", (r) => r.name === `${w.prod.prefix}-rds-monitoring`),
        {
          "aws:SourceAccount": ACCOUNT,
          "aws:SourceArn": `arn:aws:rds:${w.prod.region}:${ACCOUNT}:db:someone-elses`,
        },
      ),
    ),
    c("resourcePolicies", "CloudWatch Logs encrypts dev's app log group with dev's key", "allow", (w) => logsUse(w, `/ecs/${w.dev.prefix}`)),
    c("resourcePolicies", "CloudWatch Logs encrypts prod's log group with dev's key", "deny", (w) => logsUse(w, `/ecs/${w.prod.prefix}`)),
    c("resourcePolicies", "CloudWatch Logs encrypts a group whose name extends dev's (<prefix>-lite) with dev's key", "deny", (w) =>
      logsUse(w, `/ecs/${w.dev.prefix}-lite`),
    ),
    c("resourcePolicies", "prod's alarm publishes to prod's topic", "allow", (w) =>
      publish(w, ACCOUNT, `arn:aws:cloudwatch:${w.prod.region}:${ACCOUNT}:alarm:${w.prod.prefix}-http-5xx`),
    ),
    c("resourcePolicies", "another account's alarm publishes to prod's topic", "deny", (w) =>
      publish(w, OTHER, `arn:aws:cloudwatch:${w.prod.region}:${OTHER}:alarm:x`),
    ),
    c("resourcePolicies", "dev's alarm publishes to prod's topic", "deny", (w) =>
      publish(w, ACCOUNT, `arn:aws:cloudwatch:${w.dev.region}:${ACCOUNT}:alarm:${w.dev.prefix}-http-5xx`),
    ),
    c("resourcePolicies", "another account's EventBridge uses prod's key", "deny", (w) =>
      evaluateAs("events.amazonaws.com", "kms:GenerateDataKey", envKey(w.prod), {
        "aws:SourceAccount": OTHER,
        "aws:SourceArn": `arn:aws:events:${w.prod.region}:${OTHER}:rule/${w.prod.prefix}-service-events`,
      }),
    ),
  ];
}

/** What AWS cannot scope to an environment: allowed, and listed in docs/security.md with the reason. */
function exceptions(): Case[] {
  return [
    c("exceptions", "dev's deploy role deregisters a task definition revision of prod (no resource-level permission)", "allow", (w) =>
      ask(ci(w.dev), "ecs:DeregisterTaskDefinition", "*"),
    ),
    c("exceptions", "dev's deploy role reads prod's network (EC2 describes take no resource)", "allow", (w) =>
      ask(ci(w.dev), "ec2:DescribeSecurityGroups", "*"),
    ),
  ];
}

export const CASES: readonly Case[] = [
  ...perEnvironment("dev"),
  ...perEnvironment("prod"),
  ...crossEnvironment(),
  ...production(),
  ...trustAndResourcePolicies(),
  ...exceptions(),
];

/** Cases by group, in the order of GROUPS. */
export function countsByGroup(cases: readonly Case[] = CASES): [string, number][] {
  return Object.values(GROUPS).map((g) => [g, cases.filter((x) => x.group === g).length]);
}
