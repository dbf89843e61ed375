import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Construct } from "constructs";
import { Annotations, TerraformStack } from "cdktf";
import { BudgetsBudget } from "@cdktf/provider-aws/lib/budgets-budget";
import * as z from "zod/mini";
import type { AlarmTopic } from "./alarm-topic";
import { budgetCost, estimateMonthlyCost, largestLines, type CostEstimate } from "../calculators/cost";
import { holdings, pricesOf, ResourceKind } from "../core/resource-kind";
import { DeployPermissions } from "../core/deploy-permissions";
import { EnvironmentContext } from "../core/environment";
import { flag, rule, withDefault } from "../settings/rules";

/**
 * What an environment may cost a month. `npm run cost` exits non-zero over it and synth warns, both
 * from the same estimate (lib/calculators/cost.ts); AWS Budgets watches the real bill.
 */
export const BudgetSettingsSchema = z.strictObject({
  /** An AWS Budgets budget that alerts the alarm topic when the month's costs are forecast to pass `monthlyUsd`, and when they do ($0.02 a day beyond an account's first two budgets). @default true */
  enabled: withDefault(flag, true),
  /** USD a month this environment may cost: its budget, and the ceiling `npm run cost` and synth check the estimate against. @default 50 */
  monthlyUsd: withDefault(
    z
      .number()
      .check(rule<number>((v) => Number.isFinite(v) && v >= 1 && v <= 1_000_000, "not a monthly amount in USD", "a number of dollars from 1 to 1000000")),
    50,
  ),
});
export type BudgetConfig = z.output<typeof BudgetSettingsSchema>;

/** The environment's AWS Budgets budget and its alerts. */
export const BUDGET = new ResourceKind({
  name: "AWS Budgets budget",
  file: __filename,
  types: ["aws_budgets_budget"],
  deploy: { services: ["budgets"], tag: ["budgets:TagResource"], untag: ["budgets:UntagResource"] },
  endpoints: ["budgets"],
  price: budgetCost,
  // Budgets are listed by account.
  inventory: async (aws, { accountId }) =>
    holdings(
      "budgets",
      "budget",
      ((await aws("budgets", "DescribeBudgets", { AccountId: accountId })).Budgets ?? []).map((b: { BudgetName?: string }) => b.BudgetName),
    ),
  alarms: { why: "a budget alerts by itself, by e-mail and to the alarm topic, when the month's spend is forecast to pass it" },
});

/** The budget is named after the environment and counts the costs tagged with its `Environment` (`EnvironmentContext`). */
export interface BudgetProps extends BudgetConfig {
  /** Where the alerts go; without one (alarms off), the budget alerts `emails` directly, or no one. */
  readonly topic?: AlarmTopic;
  readonly emails: readonly string[];
}

/** Each alert: forecast to pass the budget by the month's end, and passed. */
export const BUDGET_ALERTS = [
  { notificationType: "FORECASTED", threshold: 100 },
  { notificationType: "ACTUAL", threshold: 100 },
] as const;

/**
 * The environment's monthly AWS Budgets cost budget: the costs tagged with its `Environment` (every
 * resource of the stack carries it; activate it once per account as a cost allocation tag in the Billing
 * console, or the budget sees nothing), a forecast alert and an actual alert at 100 %, to the alarm topic.
 */
export class Budget extends Construct {
  readonly budget: BudgetsBudget;

  constructor(scope: Construct, id: string, props: BudgetProps) {
    super(scope, id);
    const { prefix: name, environment } = EnvironmentContext.of(this);
    const subscribers = props.topic
      ? { subscriberSnsTopicArns: [props.topic.topicArn] }
      : props.emails.length
        ? { subscriberEmailAddresses: [...props.emails] }
        : undefined;
    this.budget = new BudgetsBudget(this, "Budget", {
      name,
      budgetType: "COST",
      timeUnit: "MONTHLY",
      limitAmount: props.monthlyUsd.toFixed(2),
      limitUnit: "USD",
      costFilter: [{ name: "TagKeyValue", values: [`user:Environment$${environment}`] }],
      notification: subscribers
        ? BUDGET_ALERTS.map(({ notificationType, threshold }) => ({
            notificationType,
            comparisonOperator: "GREATER_THAN",
            threshold,
            thresholdType: "PERCENTAGE",
            ...subscribers,
          }))
        : [],
    });
    if (!subscribers) Annotations.of(this).addWarning(`budget ${name} alerts no one: alarms.enabled is false and alarms.emails is empty`);
    // Budgets are global, by name; ModifyBudget creates, updates and deletes them and their alerts.
    const deploy = DeployPermissions.of(this);
    deploy?.allow([
      {
        Sid: "Budget",
        Action: ["budgets:ListTagsForResource", "budgets:ModifyBudget", "budgets:TagResource", "budgets:UntagResource", "budgets:ViewBudget"],
        Resource: deploy.arn("budgets", `budget/${name}`, ""),
      },
    ]);
    deploy?.kind(BUDGET);
  }
}

/** The warning synth gives when the estimate passes the budget, naming the environment and the largest lines; undefined within it. */
export function overBudget(environment: string, monthlyUsd: number, estimate: CostEstimate): string | undefined {
  if (estimate.total <= monthlyUsd) return undefined;
  const largest = largestLines(estimate, 3)
    .map((l) => `${l.item} $${l.monthly!.toFixed(2)}`)
    .join(", ");
  return (
    `${environment}: estimated $${estimate.total.toFixed(2)} a month before usage, over budget.monthlyUsd = ${monthlyUsd} (largest: ${largest}). ` +
    "Allowed: a higher budget.monthlyUsd, or settings that cost less (npm run cost lists every line)."
  );
}

/**
 * Synth warns when the stack's estimate passes its budget. The estimate reads the Terraform the stack
 * writes, so the check runs as the stack is synthesized: after the stack's own synthesizer wrote
 * `cdk.tf.json` (read back, not built twice), the warning joins the stack's annotations in the manifest,
 * where the cdktf CLI prints it and main.ts prints it for `npm run synth`.
 */
export function warnOverBudget(stack: TerraformStack, environment: string, monthlyUsd: number): void {
  const inner = stack.synthesizer;
  stack.synthesizer = {
    synthesize(session) {
      inner.synthesize(session);
      const entry = session.manifest.forStack(stack);
      const file = join(session.outdir, entry.synthesizedStackPath);
      const terraform = file.endsWith(".json") ? JSON.parse(readFileSync(file, "utf8")) : stack.toTerraform();
      const warning = overBudget(environment, monthlyUsd, estimateMonthlyCost(terraform, pricesOf()));
      if (warning) (entry.annotations as unknown[]).push({ constructPath: stack.node.path, level: "@cdktf/warn", message: warning });
    },
  };
}
