/**
 * What one construct hands another's tasks so they can use it (aws-cdk's "connections", as data):
 * the database gives a task its host, its secret and the keys to read it. Apart from both ends, so
 * the database does not import the task definition nor the task definition the database.
 */
import type { Statement } from "./iam";

/** A secret another construct wires in (e.g. the database password), with the ARN IAM must allow. */
export interface WiredSecret {
  readonly name: string;
  readonly valueFrom: string;
  readonly resourceArn: string;
}

/** What another construct hands a task so it can use it, e.g. `database.connection`. */
export interface Connection {
  /** Plain variables, e.g. the database host. */
  readonly environment: Readonly<Record<string, string>>;
  /** Secrets, read by the execution role at start. */
  readonly secrets: readonly WiredSecret[];
  /** KMS keys the execution role may decrypt those secrets with. */
  readonly decryptKeyArns: readonly string[];
  /** What the app itself may do with it (the task role), e.g. read the database's secret when it connects. @default none */
  readonly taskStatements?: readonly Statement[];
}
