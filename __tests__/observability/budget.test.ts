/** The environment's monthly budget (lib/observability/budget.ts): an AWS Budgets cost budget with forecast and actual alerts to the alarm topic. */
import { AnnotationMetadataEntryType } from "cdktf";
import { ApiStack } from "../../stacks/api-stack";
import { environments } from "../../environments/environments";
import { parseSettings } from "../../lib/settings/environment/schema";
import { resourcePrefix } from "../../lib/settings/environment/settings";
import { deployPermissions, env, only, ref, resources, synth } from "../support/helpers";
import { testApp } from "../support/bare-stack";

describe.each(environments.map((s) => [s.name, s] as const))("%s", (_name, settings) => {
  const config = parseSettings(settings);

  test("its budget is budget.monthlyUsd a month over the costs tagged with its Environment, alerting the alarm topic when forecast to pass it and when passed", () => {
    const tf = synth(settings);
    if (!config.budget.enabled) return expect(resources(tf, "aws_budgets_budget")).toEqual([]);
    const topic = ref(tf, "aws_sns_topic", only(tf, "aws_sns_topic"), "arn");
    expect(only(tf, "aws_budgets_budget")).toMatchObject({
      name: resourcePrefix(settings),
      budget_type: "COST",
      time_unit: "MONTHLY",
      limit_amount: config.budget.monthlyUsd.toFixed(2),
      limit_unit: "USD",
      cost_filter: [{ name: "TagKeyValue", values: [`user:Environment$${settings.name}`] }],
      notification: [
        {
          notification_type: "FORECASTED",
          comparison_operator: "GREATER_THAN",
          threshold: 100,
          threshold_type: "PERCENTAGE",
          subscriber_sns_topic_arns: [topic],
        },
        { notification_type: "ACTUAL", comparison_operator: "GREATER_THAN", threshold: 100, threshold_type: "PERCENTAGE", subscriber_sns_topic_arns: [topic] },
      ],
    });
  });
});

test("the encrypted alarm topic lets the budget publish, by its ARN and this account", () => {
  const tf = synth(env());
  const [statement] = JSON.parse(only(tf, "aws_sns_topic_policy").policy).Statement;
  expect(statement.Principal.Service).toContain("budgets.amazonaws.com");
  expect(statement.Condition.ArnLike["aws:SourceArn"]).toContain("arn:aws:budgets::${data.aws_caller_identity.Account.account_id}:budget/rest-api-test");
});

test("without alarms, the budget alerts alarms.emails directly; without either, synth warns that it alerts no one", () => {
  const emailed = only(synth(env({ alarms: { enabled: false, emails: ["ops@example.com"] } })), "aws_budgets_budget");
  expect(emailed.notification.map((n: any) => n.subscriber_email_addresses)).toEqual([["ops@example.com"], ["ops@example.com"]]);
  const stack = new ApiStack(testApp(), "quiet", env({ name: "quiet", alarms: { enabled: false } }));
  const warnings = stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.WARN).map((m) => String(m.data)));
  expect(warnings).toContain("budget rest-api-quiet alerts no one: alarms.enabled is false and alarms.emails is empty");
});

test("budget.enabled false leaves the AWS budget out, and its output", () => {
  const tf = synth(env({ budget: { enabled: false } }));
  expect(resources(tf, "aws_budgets_budget")).toEqual([]);
  expect(tf.output?.BudgetName).toBeUndefined();
  expect(synth(env()).output?.BudgetName).toBeDefined();
});

test("with CI access, deploying manages this budget only, by name; a release only reads it", () => {
  const { statements, release } = deployPermissions(env({ ci: { githubRepository: "acme/rest-api", workflows: ["deploy.yml"] } }));
  expect(release.find((s) => s.Sid.startsWith("Budget"))).toEqual({
    Sid: "BudgetReads",
    Action: ["budgets:ListTagsForResource", "budgets:ViewBudget"],
    Resource: "arn:aws:budgets::123456789012:budget/rest-api-test",
  });
  expect(statements.find((s) => s.Sid === "Budget")).toEqual({
    Sid: "Budget",
    Action: ["budgets:ListTagsForResource", "budgets:ModifyBudget", "budgets:TagResource", "budgets:UntagResource", "budgets:ViewBudget"],
    Resource: "arn:aws:budgets::123456789012:budget/rest-api-test",
  });
});

test("a monthly amount that is not one is refused at synth, naming the setting and what is allowed", () => {
  expect(() => synth(env({ budget: { monthlyUsd: 0 } }))).toThrow(
    "Invalid setting budget.monthlyUsd = 0: not a monthly amount in USD. Allowed: a number of dollars from 1 to 1000000.",
  );
});
