/**
 * Traces (issue 34, item 2): cases of the least-privilege table for the `tracing` setting. prod traces (its
 * task role writes traces through the collector sidecar), dev does not; writing traces is AWS's
 * AWSXrayWriteOnlyAccess (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSXrayWriteOnlyAccess.html)
 * and nothing of X-Ray beyond it: no reading traces, no groups, sampling rules, encryption or resource policies.
 * X-Ray's write calls take no resource (Service Authorization Reference, "Actions, resources, and condition keys
 * for AWS X-Ray"): "*". __tests__/iam/least-privilege.test.ts runs them with the table.
 */
import { evaluate } from "./iam-world";
import { GROUPS, type Case, type Outcome, type World } from "./iam-cases";

function c(name: string, expect: Outcome, run: Case["run"]): Case {
  return { group: GROUPS.tracing, name, expect, run };
}

const WRITES = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"];
/** X-Ray calls beyond writing traces: reading them, and changing the account's X-Ray configuration. */
const BEYOND = [
  "xray:BatchGetTraces",
  "xray:GetTraceSummaries",
  "xray:GetServiceGraph",
  "xray:CreateGroup",
  "xray:CreateSamplingRule",
  "xray:UpdateSamplingRule",
  "xray:DeleteSamplingRule",
  "xray:PutEncryptionConfig",
  "xray:PutResourcePolicy",
  "xray:UpdateTraceSegmentDestination",
];
const xray = (w: World, env: "dev" | "prod", role: string, action: string) => evaluate({ principal: w[env].role(role), action, resource: "*" });

export const TRACING_CASES: readonly Case[] = [
  ...WRITES.map((action) => c(`prod (traced): its task role may call ${action}`, "allow", (w: World) => xray(w, "prod", "task", action))),
  ...BEYOND.map((action) => c(`prod (traced): its task role may not call ${action}`, "deny", (w: World) => xray(w, "prod", "task", action))),
  c("prod (traced): its execution role may not write traces", "deny", (w) => xray(w, "prod", "execution", "xray:PutTraceSegments")),
  c("prod (traced): its deploy role may not write traces (the tasks write them)", "deny", (w) => xray(w, "prod", "ci-deploy", "xray:PutTraceSegments")),
  c("dev (untraced): its task role may not write traces", "deny", (w) => xray(w, "dev", "task", "xray:PutTraceSegments")),
  c("dev (untraced): its task role may not read sampling rules", "deny", (w) => xray(w, "dev", "task", "xray:GetSamplingRules")),
];
