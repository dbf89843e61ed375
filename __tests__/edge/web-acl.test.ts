/**
 * AWS WAF in front of the load balancer: the WebAcl construct on a bare stack, then what the
 * environments ship.
 */
import { TerraformStack, Testing } from "cdktf";
import { DEFAULT_COUNT_RULES, MANAGED_RULE_GROUPS, WAF_BODY_INSPECTION_BYTES, WafSettingsSchema, WebAcl } from "../../lib/edge/web-acl";
import { BODY_LIMIT_BYTES } from "../../app/src/limits";
import { dev, prod } from "../../environments/environments";
import { env, only, ref, resources, synth, type TfJson } from "../support/helpers";
import { testApp, testKey, testLoadBalancer } from "../support/bare-stack";
import { resourcePrefix } from "../../lib/settings/environment/settings";

function bare(settings: Record<string, unknown> = {}): TfJson {
  const stack = new TerraformStack(testApp(), "bare");
  testKey(stack);
  const loadBalancer = testLoadBalancer(stack);
  new WebAcl(stack, "WebAcl", { ...WafSettingsSchema.parse(settings), loadBalancer });
  return JSON.parse(Testing.synth(stack));
}

describe("WebAcl", () => {
  const tf = bare();
  const acl = only(tf, "aws_wafv2_web_acl");

  test("allows what no rule blocks, and runs AWS's managed rule groups first, each with its own actions", () => {
    expect(acl.default_action).toEqual({ allow: {} });
    expect(acl.scope).toBe("REGIONAL");
    const managed = acl.rule.filter((r: any) => r.statement.managed_rule_group_statement);
    expect(managed.map((r: any) => [r.priority, r.statement.managed_rule_group_statement.vendor_name, r.statement.managed_rule_group_statement.name])).toEqual(
      MANAGED_RULE_GROUPS.map((name, i) => [i, "AWS", name]),
    );
    // `none` keeps the group's block actions; `count` would only watch.
    for (const rule of managed) expect(rule.override_action).toEqual({ none: {} });
  });

  test("then blocks an IP address that sends more than the rate limit in 5 minutes", () => {
    const rate = acl.rule.find((r: any) => r.statement.rate_based_statement);
    expect(rate).toMatchObject({ priority: MANAGED_RULE_GROUPS.length, action: { block: {} } });
    expect(rate.statement.rate_based_statement).toEqual({ limit: 2000, aggregate_key_type: "IP", evaluation_window_sec: 300 });
    expect(
      only(bare({ rateLimitPer5Minutes: 500 }), "aws_wafv2_web_acl").rule.find((r: any) => r.statement.rate_based_statement).statement.rate_based_statement
        .limit,
    ).toBe(500);
  });

  test("every rule reports metrics and samples, so a block can be explained", () => {
    for (const rule of [...acl.rule, acl]) expect(rule.visibility_config).toMatchObject({ cloudwatch_metrics_enabled: true, sampled_requests_enabled: true });
  });

  test("guards the load balancer it is handed", () => {
    expect(only(tf, "aws_wafv2_web_acl_association")).toMatchObject({
      resource_arn: ref(tf, "aws_lb", only(tf, "aws_lb"), "arn"),
      web_acl_arn: ref(tf, "aws_wafv2_web_acl", acl, "arn"),
    });
  });

  test("logs what a rule blocked or counted to an encrypted aws-waf-logs- group, without credentials", () => {
    const group = only(tf, "aws_cloudwatch_log_group");
    expect(group).toMatchObject({ name: "aws-waf-logs-test-bare", retention_in_days: 30, kms_key_id: ref(tf, "aws_kms_key", only(tf, "aws_kms_key"), "arn") });
    const logging = only(tf, "aws_wafv2_web_acl_logging_configuration");
    expect(logging.log_destination_configs).toEqual([ref(tf, "aws_cloudwatch_log_group", group, "arn")]);
    expect(logging.redacted_fields).toEqual([{ single_header: { name: "authorization" } }, { single_header: { name: "cookie" } }]);
    expect(logging.logging_filter.default_behavior).toBe("DROP");
    expect(logging.logging_filter.filter[0].condition.map((c: any) => c.action_condition.action)).toEqual(["BLOCK", "COUNT"]);
  });

  test("log delivery may write only to its own group, for this account", () => {
    const statement = JSON.parse(only(tf, "aws_cloudwatch_log_resource_policy").policy_document).Statement;
    expect(statement).toHaveLength(1);
    expect(statement[0]).toMatchObject({
      Principal: { Service: "delivery.logs.amazonaws.com" },
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: `${ref(tf, "aws_cloudwatch_log_group", only(tf, "aws_cloudwatch_log_group"), "arn")}:*`,
      Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
    });
  });
});

describe("the web ACL and the API agree on what a request may carry", () => {
  /** The common rule set's rules the synthesized web ACL counts instead of blocking. */
  const counted = (tf: TfJson): string[] => {
    const common = only(tf, "aws_wafv2_web_acl").rule.find((r: any) => r.statement.managed_rule_group_statement?.name === "AWSManagedRulesCommonRuleSet");
    return (common.statement.managed_rule_group_statement.rule_action_override ?? []).map((o: any) => {
      expect(o.action_to_use).toEqual({ count: {} });
      return o.name;
    });
  };

  test("prod's web ACL blocks bodies over 8 KB, and the API refuses them itself at that size (413), so both refuse the same", () => {
    expect(counted(synth(prod))).not.toContain("SizeRestrictions_BODY");
    expect(BODY_LIMIT_BYTES).toBe(WAF_BODY_INSPECTION_BYTES);
  });

  test("the body rules that would refuse a note's text (HTML, ../, URLs) count instead of block, so prod accepts what dev does", () => {
    expect(counted(synth(prod)).sort()).toEqual([...DEFAULT_COUNT_RULES].sort());
  });

  test("countRules: [] blocks with every rule; an unknown rule name is refused at synth", () => {
    expect(only(synth(env({ waf: { enabled: true, countRules: [] } })), "aws_wafv2_web_acl").rule[0].statement.managed_rule_group_statement).toEqual({
      vendor_name: "AWS",
      name: "AWSManagedRulesCommonRuleSet",
    });
    expect(() => synth(env({ waf: { enabled: true, countRules: ["CrossSiteScripting_Body"] } }))).toThrow(
      /^Invalid setting waf\.countRules\.0 = "CrossSiteScripting_Body": not a known rule of AWSManagedRulesCommonRuleSet\. Allowed: the closest are "CrossSiteScripting_BODY"/,
    );
  });
});

describe("WAF in the environments", () => {
  test("prod runs it and keeps its log as long as its settings say (a year, as shipped)", () => {
    const tf = synth(prod);
    const prefix = resourcePrefix(prod);
    expect(only(tf, "aws_wafv2_web_acl").name).toBe(prefix);
    expect(resources(tf, "aws_cloudwatch_log_group").find((g) => g.name === `aws-waf-logs-${prefix}`)!.retention_in_days).toBe(prod.waf?.logRetentionDays);
  });

  test("it is off unless enabled: dev has none", () => {
    expect(resources(synth(dev), "aws_wafv2_web_acl")).toEqual([]);
    expect(resources(synth(env({ waf: { enabled: true } })), "aws_wafv2_web_acl")).toHaveLength(1);
  });

  test("given a rate limit below WAF's minimum, synth names the setting and what is allowed", () => {
    expect(() => synth(env({ waf: { enabled: true, rateLimitPer5Minutes: 5 } }))).toThrow(/^Invalid setting waf\.rateLimitPer5Minutes = 5: .* Allowed: .*10/);
  });
});
