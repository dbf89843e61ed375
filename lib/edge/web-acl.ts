import { Construct } from "constructs";
import { DeployPermissions } from "../core/deploy-permissions";
import { CloudwatchLogResourcePolicy } from "@cdktf/provider-aws/lib/cloudwatch-log-resource-policy";
import { Wafv2WebAcl, type Wafv2WebAclRule, type Wafv2WebAclVisibilityConfig } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import type { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import * as z from "zod/mini";
import { EnvironmentContext } from "../core/environment";
import { jsonString, synthesizingHcl } from "../core/hcl";
import type { LoadBalancer } from "./load-balancer";
import { logGroup } from "../core/log-group";
import { flag, int, listed, retention, withDefault } from "../settings/rules";
import { holdings, ResourceKind } from "../core/resource-kind";
import { webAclCost } from "../calculators/cost";

/** AWS WAF: the web ACL, its association with the load balancer, its logging. */
export const WEB_ACL = new ResourceKind({
  name: "AWS WAF web ACL",
  file: __filename,
  types: ["aws_wafv2_web_acl", "aws_wafv2_web_acl_association", "aws_wafv2_web_acl_logging_configuration"],
  deploy: { services: ["wafv2"], tag: ["wafv2:TagResource"], untag: ["wafv2:UntagResource"] },
  endpoints: ["wafv2"],
  price: webAclCost,
  inventory: async (aws) =>
    holdings(
      "wafv2",
      "web-acl",
      ((await aws("wafv2", "ListWebACLs", { Scope: "REGIONAL" })).WebACLs ?? []).map((w: { Name?: string }) => w.Name),
    ),
  alarms: { why: "what it blocks is logged and on the dashboard; a surge of blocks is an attack turned away, not a fault to page for" },
});

/** The AWS managed rule groups every web ACL here runs, in order, each counted as one rule. */
export const MANAGED_RULE_GROUPS = [
  // OWASP-style protections: bad bots' user agents, oversized and malformed requests, SSRF, XSS, LFI/RFI.
  "AWSManagedRulesCommonRuleSet",
  // Request patterns known to exploit vulnerabilities (Log4j, Java deserialization, localhost hosts).
  "AWSManagedRulesKnownBadInputsRuleSet",
  // Addresses Amazon threat intelligence lists as bots and attackers.
  "AWSManagedRulesAmazonIpReputationList",
] as const;

/** The rules of AWSManagedRulesCommonRuleSet (version 1.x), which `countRules` may switch to count. */
export const COMMON_RULE_SET_RULES = [
  "NoUserAgent_HEADER",
  "UserAgent_BadBots_HEADER",
  "SizeRestrictions_QUERYSTRING",
  "SizeRestrictions_Cookie_HEADER",
  "SizeRestrictions_BODY",
  "SizeRestrictions_URIPATH",
  "EC2MetaDataSSRF_BODY",
  "EC2MetaDataSSRF_COOKIE",
  "EC2MetaDataSSRF_URIPATH",
  "EC2MetaDataSSRF_QUERYARGUMENTS",
  "GenericLFI_QUERYARGUMENTS",
  "GenericLFI_URIPATH",
  "GenericLFI_BODY",
  "RestrictedExtensions_URIPATH",
  "RestrictedExtensions_QUERYARGUMENTS",
  "GenericRFI_QUERYARGUMENTS",
  "GenericRFI_BODY",
  "GenericRFI_URIPATH",
  "CrossSiteScripting_COOKIE",
  "CrossSiteScripting_QUERYARGUMENTS",
  "CrossSiteScripting_BODY",
  "CrossSiteScripting_URIPATH",
] as const;

/**
 * What AWS WAF inspects of a request body behind an Application Load Balancer (fixed by AWS), and the
 * size above which the common rule set's SizeRestrictions_BODY blocks it. The API refuses larger bodies
 * itself (app/src/limits.ts), so the two agree.
 */
export const WAF_BODY_INSPECTION_BYTES = 8 * 1024;

/**
 * The body rules that judge a note's text as an attack: `<b>` (XSS), `../` (LFI), a URL with an IP
 * address (RFI) or the metadata address (SSRF) are text this API stores and returns as JSON, never
 * renders, includes or fetches. Counted (and logged) rather than blocked, so prod accepts what dev
 * does; a fork whose API does any of those sets `waf.countRules: []`.
 */
export const DEFAULT_COUNT_RULES = ["CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "EC2MetaDataSSRF_BODY"] as const;

/** The last rule: an IP address over `rateLimitPer5Minutes` is blocked. */
export const RATE_LIMIT_RULE = "rate-limit-per-ip";

/** Where Terraform's block name is not the API's key in snake case (a repeated block takes the singular). */
const TERRAFORM_BLOCKS: Record<string, string> = { RuleActionOverrides: "rule_action_override" };

/** `ManagedRuleGroupStatement` → `managed_rule_group_statement` (WAF's `CloudWatch` is one word to Terraform). */
function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (!value || typeof value !== "object") return value;
  const snake = (key: string) =>
    TERRAFORM_BLOCKS[key] ?? key.replace(/CloudWatch/g, "Cloudwatch").replace(/[A-Z]/g, (c, i) => `${i ? "_" : ""}${c.toLowerCase()}`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snake(k), snakeKeys(v)]));
}

type ApiVisibility = { CloudWatchMetricsEnabled: boolean; MetricName: string; SampledRequestsEnabled: boolean };
type ApiRule = { Name: string; Priority: number; OverrideAction?: object; Action?: object; Statement: object; VisibilityConfig: ApiVisibility };

function terraformVisibility(v: ApiVisibility): Wafv2WebAclVisibilityConfig {
  return { cloudwatchMetricsEnabled: v.CloudWatchMetricsEnabled, metricName: v.MetricName, sampledRequestsEnabled: v.SampledRequestsEnabled };
}

/** A rule as the provider's typed `rule` block; its loosely typed `statement` passes through unconverted, so it is written in snake_case. */
function terraformRule(rule: ApiRule): Wafv2WebAclRule {
  return {
    name: rule.Name,
    priority: rule.Priority,
    ...(rule.OverrideAction ? { overrideAction: snakeKeys(rule.OverrideAction) as object } : {}),
    ...(rule.Action ? { action: snakeKeys(rule.Action) as object } : {}),
    statement: snakeKeys(rule.Statement),
    visibilityConfig: terraformVisibility(rule.VisibilityConfig),
  };
}

export const WafSettingsSchema = z.strictObject({
  /** A WAF web ACL in front of the load balancer: AWS managed rules and a per-IP rate limit, logged. About $9 a month plus $0.60 per million requests. @default false */
  enabled: withDefault(flag, false),
  /** Requests one IP address may make in 5 minutes before it is blocked for a while. @default 2000 */
  rateLimitPer5Minutes: withDefault(int(10, 2000000000), 2000),
  /** Days the WAF's log of blocked and counted requests is kept. @default 30 */
  logRetentionDays: withDefault(retention(), 30),
  /**
   * Rules of the common rule set that count (and log) instead of block: by default the body rules that would refuse a note's text (HTML, `../`, a
   * URL), which this API stores and never renders, includes or fetches; `[]` blocks with every rule. SizeRestrictions_BODY keeps blocking over 8
   * KB, the API's own limit. @default ["CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "EC2MetaDataSSRF_BODY"]
   */
  countRules: withDefault(
    z.readonly(z.array(listed(COMMON_RULE_SET_RULES, "rule of AWSManagedRulesCommonRuleSet", "lib/edge/web-acl.ts (COMMON_RULE_SET_RULES)"))),
    [...DEFAULT_COUNT_RULES],
  ),
});
export type WafSettings = z.input<typeof WafSettingsSchema>;
export type WafConfig = z.output<typeof WafSettingsSchema>;

/**
 * The web ACL is named after the environment (`<project>-<environment>`, its log group's after the
 * `aws-waf-logs-` WAF requires), and its log group uses the environment's key (`EnvironmentContext`).
 */
export interface WebAclProps extends Omit<WafConfig, "enabled"> {
  /** The load balancer it guards. */
  readonly loadBalancer: LoadBalancer;
}

/**
 * AWS WAF in front of the load balancer: AWS's managed rule groups, then a per-IP rate limit. Every
 * request that a rule blocks or counts is logged to an encrypted log group (authorization and cookie
 * headers redacted); allowed requests are not, as the load balancer's access logs hold them.
 */
export class WebAcl extends Construct {
  readonly webAcl: Wafv2WebAcl;
  readonly logGroup: CloudwatchLogGroup;

  get webAclArn(): string {
    return this.webAcl.arn;
  }

  constructor(scope: Construct, id: string, props: WebAclProps) {
    super(scope, id);
    const { prefix: name, region, partition, accountId } = EnvironmentContext.of(this);
    // One description of the rules in the WAF API's own shape. Terraform takes them as typed `rule`
    // blocks (drift-detected); cdktf's HCL writer cannot write a rule's `statement` (the provider types
    // it loosely) as a block, so the HCL output takes them as `rule_json`, the same rules as JSON.
    const visibility = (metricName: string) => ({ CloudWatchMetricsEnabled: true, MetricName: metricName, SampledRequestsEnabled: true });
    const rules = [
      ...MANAGED_RULE_GROUPS.map((group, i) => ({
        Name: group,
        Priority: i,
        // The group's own actions (block), not a count-only override.
        OverrideAction: { None: {} },
        Statement: {
          ManagedRuleGroupStatement: {
            VendorName: "AWS",
            Name: group,
            ...(group === "AWSManagedRulesCommonRuleSet" && props.countRules.length
              ? { RuleActionOverrides: [...new Set(props.countRules)].map((name) => ({ Name: name, ActionToUse: { Count: {} } })) }
              : {}),
          },
        },
        VisibilityConfig: visibility(`${name}-${group}`),
      })),
      {
        Name: RATE_LIMIT_RULE,
        Priority: MANAGED_RULE_GROUPS.length,
        Action: { Block: {} },
        Statement: { RateBasedStatement: { Limit: props.rateLimitPer5Minutes, AggregateKeyType: "IP", EvaluationWindowSec: 300 } },
        VisibilityConfig: visibility(`${name}-${RATE_LIMIT_RULE}`),
      },
    ];
    this.webAcl = new Wafv2WebAcl(this, "WebAcl", {
      name: name,
      description: `${name}: AWS managed rules and a per-IP rate limit in front of the load balancer`,
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      ...(synthesizingHcl() ? { ruleJson: jsonString(rules) } : { rule: rules.map(terraformRule) }),
      visibilityConfig: terraformVisibility(visibility(name)),
    });
    new Wafv2WebAclAssociation(this, "Association", { resourceArn: props.loadBalancer.loadBalancerArn, webAclArn: this.webAcl.arn });
    grantWebAclDeploy(this, name);

    this.logGroup = logGroup(this, "LogGroup", {
      name: `aws-waf-logs-${name}`,
      retentionDays: props.logRetentionDays,
    });
    // WAF delivers through CloudWatch Logs' log delivery service; written here, so WAF does not add
    // an account-wide policy of its own (an account holds at most 10 per region).
    const policy = new CloudwatchLogResourcePolicy(this, "LogDelivery", {
      policyName: `${name}-waf-logs`,
      policyDocument: jsonString({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "WafLogDelivery",
            Effect: "Allow",
            Principal: { Service: "delivery.logs.amazonaws.com" },
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: `${this.logGroup.arn}:*`,
            Condition: {
              StringEquals: { "aws:SourceAccount": accountId },
              ArnLike: { "aws:SourceArn": `arn:${partition}:logs:${region}:${accountId}:*` },
            },
          },
        ],
      }),
    });
    new Wafv2WebAclLoggingConfiguration(this, "Logging", {
      resourceArn: this.webAcl.arn,
      logDestinationConfigs: [this.logGroup.arn],
      redactedFields: [{ singleHeader: { name: "authorization" } }, { singleHeader: { name: "cookie" } }],
      // Only what a rule blocked or counted: the access logs already hold every request.
      loggingFilter: {
        defaultBehavior: "DROP",
        filter: [
          { behavior: "KEEP", requirement: "MEETS_ANY", condition: [{ actionCondition: { action: "BLOCK" } }, { actionCondition: { action: "COUNT" } }] },
        ],
      },
      dependsOn: [policy],
    });
  }
}

/**
 * What the deploy role needs for the web ACL (tagged), AWS's managed rule groups it names, its
 * association with this environment's load balancer (by name: the association checks no tags), and
 * its logging. Log delivery's calls and the account's log resource policies take no resource
 * (docs/security.md: what AWS cannot scope).
 */
function grantWebAclDeploy(scope: Construct, name: string): void {
  const deploy = DeployPermissions.of(scope);
  if (!deploy) return;
  deploy.service("Waf", {
    kind: WEB_ACL,
    create: ["wafv2:CreateWebACL", "wafv2:TagResource"],
    manage: [
      "wafv2:AssociateWebACL",
      "wafv2:DeleteLoggingConfiguration",
      "wafv2:DeleteWebACL",
      "wafv2:GetLoggingConfiguration",
      "wafv2:GetWebACL",
      "wafv2:GetWebACLForResource",
      "wafv2:ListTagsForResource",
      "wafv2:PutLoggingConfiguration",
      "wafv2:TagResource",
      "wafv2:UntagResource",
      "wafv2:UpdateWebACL",
    ],
  });
  deploy.allow([
    {
      Sid: "WafManagedRules",
      Action: ["wafv2:CreateWebACL", "wafv2:UpdateWebACL"],
      Resource: deploy.arn("wafv2", "regional/managedruleset/*/*", deploy.region, "*"),
    },
    {
      Sid: "WafLoadBalancer",
      Action: ["wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource"],
      Resource: deploy.arn("elasticloadbalancing", `loadbalancer/app/${name}/*`),
    },
    {
      Sid: "WafLogDelivery",
      Action: [
        "elasticloadbalancing:SetWebACL",
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:DescribeResourcePolicies",
        "logs:GetLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DeleteResourcePolicy",
        "logs:UpdateLogDelivery",
      ],
      Resource: "*",
    },
  ]);
  deploy.serviceLinkedRole("wafv2.amazonaws.com");
}
