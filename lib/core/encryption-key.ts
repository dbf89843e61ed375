import { Construct, type IConstruct } from "constructs";
import { Lazy, TerraformStack } from "cdktf";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import * as z from "zod/mini";
import { jsonString } from "./hcl";
import { EnvironmentContext } from "./environment";
import { DeployPermissions } from "./deploy-permissions";
import { holdings, ResourceKind } from "./resource-kind";
import { keyCost } from "../calculators/cost";
import { int, withDefault } from "../settings/rules";

export const EncryptionSettingsSchema = z.strictObject({
  /** Days the environment's KMS key (log groups, alarm topic) waits before deletion after `destroy`, 7–30. @default 30 */
  keyDeletionWindowDays: withDefault(int(7, 30), 30),
});
/** The environment's encryption key, as written in an environment. */
export type EncryptionSettings = z.input<typeof EncryptionSettingsSchema>;
export type EncryptionConfig = z.output<typeof EncryptionSettingsSchema>;

/** The key's own settings; its alias, region and account are the environment's (`EnvironmentContext`). */
export type EncryptionKeyProps = EncryptionConfig;

/**
 * The environment's customer-managed KMS key, with rotation and an explicit key policy: the account
 * administers it through IAM, and CloudWatch Logs in this region encrypts with it exactly the log
 * groups the stack creates (`allowLogGroup`, by ARN). The database
 * keeps its own key (`Database.key`), which it always had: moving RDS storage to another key replaces
 * the instance.
 */
const keys = new WeakMap<TerraformStack, EncryptionKey>();

export class EncryptionKey extends Construct {
  /**
   * The environment's key, of the stack `scope` belongs to: log groups, the repository, queues and the
   * alarm topic encrypt with it. Asked before the stack made it, it is an error naming the construct.
   */
  static of(scope: IConstruct): EncryptionKey {
    const stack = TerraformStack.of(scope);
    const key = keys.get(stack);
    if (!key)
      throw new Error(
        `${scope.node.path}: asked for the environment's encryption key before stack ${stack.node.path} made it; make the EncryptionKey before the constructs that encrypt with it`,
      );
    return key;
  }

  readonly key: KmsKey;
  readonly keyArn: string;
  readonly accountId: string;
  readonly partition: string;
  /** `<project>-<environment>`, the environment the key belongs to. */
  readonly name: string;
  readonly region: string;
  private readonly statements: KeyPolicyStatement[] = [];
  private readonly logGroupArns: string[] = [];

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    const environment = EnvironmentContext.of(this);
    const stack = TerraformStack.of(this);
    const made = keys.get(stack);
    if (made) throw new Error(`${this.node.path}: environment ${environment.prefix} already has an encryption key (${made.node.path})`);
    keys.set(stack, this);
    const { partition, accountId, region } = environment;
    this.accountId = accountId;
    this.partition = partition;
    this.region = region;
    this.name = environment.prefix;
    this.statements.push(accountAdministers(partition, accountId), {
      Sid: "CloudWatchLogsEncryptsThisEnvironmentsLogGroups",
      Effect: "Allow",
      Principal: { Service: `logs.${region}.amazonaws.com` },
      Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      Resource: "*",
      // Exactly the log groups the stack made (filled in at synth): a log group of another environment,
      // even one whose name contains this one's, cannot use the key.
      Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": this.logGroupArns } },
    });
    grantKeyDeploy(this);
    this.key = new KmsKey(this, "Key", {
      description: `${this.name} environment key`,
      enableKeyRotation: true,
      deletionWindowInDays: props.keyDeletionWindowDays,
      // Built at synth, so constructs created later can add their service's statement (addToResourcePolicy).
      policy: Lazy.stringValue({ produce: () => jsonString({ Version: "2012-10-17", Statement: this.statements }) }),
    });
    new KmsAlias(this, "Alias", { name: `alias/${this.name}`, targetKeyId: this.key.keyId });
    this.keyArn = this.key.arn;
  }

  /** Lets CloudWatch Logs encrypt the log group of this name with the key (its exact ARN in the key policy). */
  allowLogGroup(name: string): void {
    const arn = `arn:${this.partition}:logs:${this.region}:${this.accountId}:log-group:${name}`;
    if (!this.logGroupArns.includes(arn)) this.logGroupArns.push(arn);
  }

  /**
   * Lets AWS services use the key on this account's behalf, e.g. to publish to a topic it encrypts.
   * The same statement twice is kept once; another statement under a Sid already used is refused.
   */
  addToResourcePolicy(statement: Omit<KeyPolicyStatement, "Effect" | "Resource">): void {
    const added: KeyPolicyStatement = { ...statement, Effect: "Allow", Resource: "*" };
    const same = this.statements.find((s) => s.Sid === added.Sid);
    if (same && JSON.stringify(same) === JSON.stringify(added)) return;
    if (same) throw new Error(`EncryptionKey ${this.node.path}: the key policy already has another statement "${added.Sid}"`);
    this.statements.push(added);
  }
}

/** A statement of a key policy. */
export interface KeyPolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Principal: { readonly AWS?: string; readonly Service?: string | readonly string[] };
  readonly Action: string | readonly string[];
  readonly Resource: "*";
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/**
 * The statement every key policy here starts with: the account's IAM policies decide who uses the key,
 * as with AWS's default key policy, so no role is named in the key and none can be locked out.
 */
export function accountAdministers(partition: string, accountId: string): KeyPolicyStatement {
  return {
    Sid: "AccountAdministersThroughIam",
    Effect: "Allow",
    Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
    Action: "kms:*",
    Resource: "*",
  };
}

/** Customer managed KMS keys and their aliases: the environment's key and the database's. */
export const KEYS = new ResourceKind({
  name: "KMS keys",
  file: __filename,
  types: ["aws_kms_key", "aws_kms_alias"],
  deploy: { services: ["kms"], tag: ["kms:TagResource"], untag: ["kms:UntagResource"] },
  endpoints: ["kms"],
  price: keyCost,
  // A customer key cannot be deleted at once, only scheduled: pending deletion counts as gone. Keys behind an
  // alias/aws/ alias are AWS-managed defaults (aws/ebs, made on first use), not the stack's.
  inventory: async (aws) => {
    const aliases: { AliasName?: string; TargetKeyId?: string }[] = (await aws("kms", "ListAliases")).Aliases ?? [];
    const awsManaged = new Set(aliases.filter((a) => a.AliasName?.startsWith("alias/aws/")).map((a) => a.TargetKeyId));
    const found = [];
    for (const key of ((await aws("kms", "ListKeys")).Keys ?? []) as { KeyId?: string }[]) {
      const meta = (await aws("kms", "DescribeKey", { KeyId: key.KeyId })).KeyMetadata as { KeyId?: string; KeyManager?: string; KeyState?: string };
      if (meta?.KeyManager === "CUSTOMER" && meta.KeyState !== "PendingDeletion" && !awsManaged.has(meta.KeyId)) found.push(meta.KeyId);
    }
    return holdings("kms", "key", found);
  },
  alarms: { why: "a key has no metric to alarm on that the stack acts on; a key scheduled for deletion is refused in production by the deploy role" },
});

/**
 * What the deploy role needs for the stack's KMS keys (this one and the database's): create them tagged,
 * manage the ones tagged with this environment, their aliases under its prefix. Scheduling a key's
 * deletion is left out of a production environment's role.
 */
export function grantKeyDeploy(scope: Construct): void {
  const deploy = DeployPermissions.of(scope);
  if (!deploy) return;
  deploy.service("Kms", {
    read: ["kms:ListAliases"],
    kind: KEYS,
    create: ["kms:CreateKey", "kms:TagResource"],
    manage: [
      "kms:CreateAlias",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:EnableKeyRotation",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ],
    destroy: ["kms:ScheduleKeyDeletion"],
  });
  // An alias has no tags: its name is the environment's (the key it points to must be tagged, above).
  deploy.allow([
    {
      Sid: "KmsAliases",
      Action: ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
      Resource: [deploy.arn("kms", `alias/${deploy.prefix}`), deploy.arn("kms", `alias/${deploy.prefix}-*`)],
    },
  ]);
}
