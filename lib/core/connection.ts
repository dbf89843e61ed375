/**
 * What one construct hands another's tasks so they can use it (aws-cdk's "connections", as data):
 * the database gives a task its host, its app role and the owner's login for migrations. Apart from both ends, so
 * the database does not import the task definition nor the task definition the database.
 */
import type { Statement } from "./iam";
import type { IConnectable } from "./connections";

/** A secret another construct wires in (e.g. the database password), with the ARN IAM must allow. */
export interface WiredSecret {
  readonly name: string;
  readonly valueFrom: string;
  readonly resourceArn: string;
  /**
   * What the environment's permissions boundary names for it, where the secret's ARN is known only once a
   * resource that needs a role under the boundary exists (the database's master secret: the instance needs
   * its monitoring role, which carries the boundary, so the boundary naming the instance's secret would be
   * a cycle Terraform refuses). @default resourceArn
   */
  readonly boundaryArn?: string;
}

/** What another construct hands a task so it can use it, e.g. `database.connection`. */
export interface Connection {
  /** Plain variables, e.g. the database host. */
  readonly environment: Readonly<Record<string, string>>;
  /** Secrets, read by the execution role at start. */
  readonly secrets: readonly WiredSecret[];
  /** KMS keys the execution role may decrypt those secrets with. */
  readonly decryptKeyArns: readonly string[];
  /** What the app itself may do with it (the task role), e.g. `rds-db:connect` as the app's database role. @default none */
  readonly taskStatements?: readonly Statement[];
  /**
   * The owner's login (the database's master user), for a container that migrates before the app, never
   * the app's: the task definition gives it to its migrate container alone, read by the execution role at start.
   * @default none
   */
  readonly owner?: { readonly secrets: readonly WiredSecret[]; readonly decryptKeyArns: readonly string[] };
}

/**
 * Something of the environment that tasks use, as a fork's cache: what it hands a task (`connection`) and its
 * end of the network (`connections`). The stack hands it to the services and jobs that ask for it by name
 * (`ApiStack.use`, `service.uses`).
 */
export interface ITaskResource extends IConnectable {
  readonly connection: Connection;
}
