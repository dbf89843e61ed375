/**
 * One description per kind of AWS resource, written by the construct that makes it (aws-cdk keeps a
 * resource's grants, connections and metrics on its construct; this keeps the rest of what the starter
 * knows of a kind there too): what deploying it calls and which of those calls tag, what it costs, which
 * provider endpoints it reaches, how to find what is left of it in an account, and what alarms watch it.
 *
 * Everything that once listed kinds by hand is derived from these: the CI role's tag denies
 * (`DeployPermissions.kind`), `npm run cost` and synth's budget check (`priceOf`), the emulator's endpoints
 * and its leftover inventory (emulator/mode.ts, emulator/inventory.ts). `__tests__/core/resource-kinds.test.ts`
 * fails, naming the construct's file, when a synthesized resource type has no kind or its kind lacks any part.
 * A kind with nothing to say for a part says why (`free`, `none`), so silence is never the answer.
 */
import { relative } from "node:path";
import type { CostLine, SynthesizedTerraform } from "../calculators/cost";

/** An AWS API answer: its shape is the SDK's, and each inventory names the fields it reads. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AwsAnswer = Record<string, any>;

/** An AWS API call as the inventory makes it: the AWS SDK for JavaScript's client package (`rds` for `@aws-sdk/client-rds`), the command without `Command`, its input. */
export type AwsCall = (client: string, command: string, input?: Record<string, unknown>) => Promise<AwsAnswer>;

/** One thing an account holds: `<service> <kind> <id>`, as the leftover check prints it. */
export interface Holding {
  readonly service: string;
  readonly kind: string;
  readonly id: string;
}

/** Where the inventory looks: some lists are by account (AWS Budgets). */
export interface InventoryAccount {
  readonly accountId: string;
  readonly region: string;
}

/** `ids` (those set) as holdings of one kind. */
export function holdings(service: string, kind: string, ids: readonly (string | undefined)[]): Holding[] {
  return ids.filter((id): id is string => Boolean(id)).map((id) => ({ service, kind, id }));
}

/** Where a resource's ARN is made up, as the IAM table's world fills in references: its region and account, and stand-ins for what AWS picks. */
export interface ArnContext {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** A stand-in of `length` letters and digits for a part AWS generates (a secret's suffix), the same for the same resource. */
  readonly unique: (length: number) => string;
}

/** Why a part says nothing: a sentence a reviewer can check. */
export interface Reason {
  readonly why: string;
}

export interface ResourceKindProps {
  /** What it is called in messages and cost lines' neighbours: "PostgreSQL on RDS". */
  readonly name: string;
  /** The describing module's `__filename`: the file a failing check names, where a fork changes the kind. */
  readonly file: string;
  /** Its Terraform resource types (`aws_db_instance`); each type belongs to one kind. */
  readonly types: readonly string[];
  /**
   * What deploying it calls: the IAM services (`rds`) whose calls its construct grants the deploy role, and
   * of those calls the ones that set (`tag`) and remove (`untag`) tags, which the CI role's denies hold to
   * the environment's own `Project` and `Environment` (lib/ci/ci-access.ts).
   */
  readonly deploy: { readonly services: readonly string[]; readonly tag?: readonly string[]; readonly untag?: readonly string[] };
  /** The provider's `endpoints` keys Terraform reaches for it (and its data sources): the emulator serves each. */
  readonly endpoints: readonly string[];
  /** Its charges a month in a synthesized stack (`npm run cost`, synth's budget check), or why it has none of its own. */
  readonly price: ((terraform: SynthesizedTerraform) => CostLine[]) | Reason;
  /** What of it an account holds, through AWS's API (the emulator's leftover check after a destroy), or why nothing is listed. */
  readonly inventory: ((aws: AwsCall, account: InventoryAccount) => Promise<Holding[]>) | Reason;
  /** The CloudWatch namespace its construct's metric methods feed alarms from (`alarms.watch(it)`), or why it has no alarm. */
  readonly alarms: { readonly namespace: string } | Reason;
  /**
   * How AWS names its resources (their `arn` attribute) by Terraform type, for what a policy references before
   * anything exists (the IAM table evaluates policies with them filled in, `__tests__/iam/iam-world.ts`).
   * @default none: a policy that names one fails the IAM tests, naming the type
   */
  readonly arns?: Readonly<Record<string, (resource: Readonly<Record<string, unknown>>, at: ArnContext) => string>>;
}

/** Every kind described so far, in the order their modules loaded; a stack's modules describe the kinds it can make. */
const described: ResourceKind[] = [];

/** A kind of AWS resource, described once beside the construct that makes it; see the module's comment. */
export class ResourceKind {
  /** Every kind the loaded constructs describe. Import the stack (stacks/api-stack.ts) first to have them all. */
  static all(): readonly ResourceKind[] {
    return described;
  }

  /** The kind a Terraform resource type belongs to, if any construct describes it. */
  static of(type: string): ResourceKind | undefined {
    return described.find((kind) => kind.types.includes(type));
  }

  readonly name: string;
  readonly file: string;
  readonly types: readonly string[];
  readonly deploy: ResourceKindProps["deploy"];
  readonly endpoints: readonly string[];
  readonly price: ResourceKindProps["price"];
  readonly inventory: ResourceKindProps["inventory"];
  readonly alarms: ResourceKindProps["alarms"];
  readonly arns: NonNullable<ResourceKindProps["arns"]>;

  constructor(props: ResourceKindProps) {
    const claimed = props.types.map((type) => [type, ResourceKind.of(type)] as const).find(([, kind]) => kind && kind.file !== relativeFile(props.file));
    if (claimed)
      throw new Error(
        `${relativeFile(props.file)}: resource type ${claimed[0]} is already described by ${claimed[1]!.file} (${claimed[1]!.name}); a type belongs to one kind`,
      );
    this.name = props.name;
    this.file = relativeFile(props.file);
    this.types = props.types;
    this.deploy = props.deploy;
    this.endpoints = props.endpoints;
    this.price = props.price;
    this.inventory = props.inventory;
    this.alarms = props.alarms;
    this.arns = props.arns ?? {};
    // A module loaded twice (jest's isolated registries) describes its kinds again: the newest stands.
    const again = described.findIndex((kind) => kind.file === this.file && kind.name === this.name);
    if (again >= 0) described.splice(again, 1, this);
    else described.push(this);
  }

  /** The tag calls deploying it makes, set and removed. */
  get tagging(): { readonly tag: readonly string[]; readonly untag: readonly string[] } {
    return { tag: this.deploy.tag ?? [], untag: this.deploy.untag ?? [] };
  }
}

/** The file from the project's folder (where every command runs), for messages. */
function relativeFile(file: string): string {
  return file.startsWith("/") ? relative(process.cwd(), file) : file;
}

/** Whether a part is a reason rather than a function or a namespace. */
export function isReason(part: unknown): part is Reason {
  return typeof part === "object" && part !== null && typeof (part as Reason).why === "string";
}

/** The kinds' prices, in the order given: what `estimateMonthlyCost` adds up. */
export function pricesOf(kinds: readonly ResourceKind[] = ResourceKind.all()): ((terraform: SynthesizedTerraform) => CostLine[])[] {
  return kinds.flatMap((kind) => (isReason(kind.price) ? [] : [kind.price]));
}

/** Every provider endpoint the kinds reach, sorted. */
export function endpointsOf(kinds: readonly ResourceKind[] = ResourceKind.all()): string[] {
  return [...new Set(kinds.flatMap((kind) => kind.endpoints))].sort();
}
