/**
 * The game day's WAF evaluator (scripts/gameday/waf.ts): the synthesized web ACL's own rules decide, and
 * a web ACL that would let a probe through is caught letting it through: without the size rule, with the
 * rule overridden to count, excluded, scoped down, or a custom size rule that cannot see past 8 KB.
 */
import { ALB_BODY_INSPECTION_LIMIT_BYTES, evaluateWebAcl, type WafRequest } from "../../scripts/gameday/waf";
import { environments } from "../../environments/environments";
import { parseSettings } from "../../lib/settings/environment/schema";
import { synth } from "../support/helpers";

type Json = Record<string, any>;

const COMMON = "AWSManagedRulesCommonRuleSet";
const visibility = { cloudwatch_metrics_enabled: true, metric_name: "m", sampled_requests_enabled: true };
const count = (name: string) => ({ name, action_to_use: { count: {} } });
const commonRule = (group: Json = {}): Json => ({
  name: COMMON,
  priority: 0,
  override_action: { none: {} },
  statement: { managed_rule_group_statement: { vendor_name: "AWS", name: COMMON, ...group } },
  visibility_config: visibility,
});
const acl = (...rule: Json[]): Json => ({ default_action: { allow: {} }, rule, visibility_config: visibility });
const rule = (name: string, priority: number, statement: Json, action: Json = { block: {} }): Json => ({
  name,
  priority,
  action,
  statement,
  visibility_config: visibility,
});

/** A POST of `body` to /notes as the game day's client sends it. */
const post = (body: string, extra: Partial<WafRequest> = {}): WafRequest => ({
  method: "POST",
  uri: "/notes",
  headers: { host: "api.example.com", "content-type": "application/json", "user-agent": "node" },
  body,
  ...extra,
});
const bytes = (n: number) => "x".repeat(n);

describe("the AWS managed common rule set, as documented", () => {
  test("SizeRestrictions_BODY: a body of 8,192 bytes passes, one byte more is blocked", () => {
    const web = acl(commonRule());
    expect(evaluateWebAcl(web, post(bytes(8_192)))).toEqual({ action: "allow", counted: [] });
    expect(evaluateWebAcl(web, post(bytes(8_193)))).toEqual({ action: "block", terminatingRule: `${COMMON}:SizeRestrictions_BODY`, counted: [] });
  });

  test("it can fail: without the rule group, with the rule overridden to count, excluded, or scoped down, the large body goes through", () => {
    const large = post(bytes(8_193));
    expect(evaluateWebAcl(acl(), large).action).toBe("allow");
    expect(evaluateWebAcl(acl(commonRule({ rule_action_override: [count("SizeRestrictions_BODY")] })), large)).toEqual({
      action: "allow",
      counted: [`${COMMON}:SizeRestrictions_BODY`],
    });
    expect(evaluateWebAcl(acl(commonRule({ excluded_rule: [{ name: "SizeRestrictions_BODY" }] })), large).action).toBe("allow");
    expect(evaluateWebAcl(acl({ ...commonRule(), override_action: { count: {} } }), large).action).toBe("allow");
    const onlyAdmin = {
      scope_down_statement: {
        byte_match_statement: {
          search_string: "/admin",
          positional_constraint: "STARTS_WITH",
          field_to_match: { uri_path: {} },
          text_transformation: [{ priority: 0, type: "NONE" }],
        },
      },
    };
    expect(evaluateWebAcl(acl(commonRule(onlyAdmin)), large).action).toBe("allow");
    expect(evaluateWebAcl(acl(commonRule(onlyAdmin)), { ...large, uri: "/admin/notes" }).action).toBe("block");
  });

  test("the body rules block HTML and ../ unless overridden to count, and see only the first 8 KB of a body", () => {
    const blocking = acl(commonRule());
    expect(evaluateWebAcl(blocking, post('{"body":"<script>alert(1)</script>"}')).terminatingRule).toBe(`${COMMON}:CrossSiteScripting_BODY`);
    expect(evaluateWebAcl(blocking, post('{"body":"see ../../etc/passwd"}')).terminatingRule).toBe(`${COMMON}:GenericLFI_BODY`);
    expect(evaluateWebAcl(blocking, post('{"body":"%3Cscript%3E"}')).terminatingRule).toBe(`${COMMON}:CrossSiteScripting_BODY`);
    expect(evaluateWebAcl(blocking, post('{"body":"plain text, <b>bold</b>"}')).action).toBe("allow");
    const counting = acl(commonRule({ rule_action_override: [count("CrossSiteScripting_BODY"), count("GenericLFI_BODY")] }));
    expect(evaluateWebAcl(counting, post('{"body":"<script>alert(1)</script> ../"}'))).toEqual({
      action: "allow",
      counted: [`${COMMON}:GenericLFI_BODY`, `${COMMON}:CrossSiteScripting_BODY`],
    });
    // Past what the ALB forwards, a script is not seen (the size rule, counted here, is what stops such a body).
    const late = bytes(ALB_BODY_INSPECTION_LIMIT_BYTES) + "<script>alert(1)</script>";
    expect(evaluateWebAcl(acl(commonRule({ rule_action_override: [count("SizeRestrictions_BODY")] })), post(late))).toEqual({
      action: "allow",
      counted: [`${COMMON}:SizeRestrictions_BODY`],
    });
  });

  test("a request without a User-Agent is blocked (NoUserAgent_HEADER); a localhost Host by the known bad inputs", () => {
    expect(evaluateWebAcl(acl(commonRule()), post("{}", { headers: { "content-type": "application/json" } })).terminatingRule).toBe(
      `${COMMON}:NoUserAgent_HEADER`,
    );
    const bad = rule("bad", 1, { managed_rule_group_statement: { vendor_name: "AWS", name: "AWSManagedRulesKnownBadInputsRuleSet" } });
    delete bad.action;
    bad.override_action = { none: {} };
    expect(evaluateWebAcl(acl(bad), post("{}", { headers: { host: "localhost:8080", "user-agent": "node" } })).terminatingRule).toBe(
      "AWSManagedRulesKnownBadInputsRuleSet:Host_localhost_HEADER",
    );
  });
});

describe("the web ACL's own statements", () => {
  const bodySize = (size: number, oversize?: string) => ({
    size_constraint_statement: {
      comparison_operator: "GT",
      size,
      field_to_match: { body: oversize ? { oversize_handling: oversize } : {} },
      text_transformation: [{ priority: 0, type: "NONE" }],
    },
  });

  test("a size constraint on the body compares what the ALB forwards: GT 8,192 never matches with CONTINUE, always with MATCH", () => {
    const large = post(bytes(20_000));
    expect(evaluateWebAcl(acl(rule("size", 0, bodySize(100))), post(bytes(101))).action).toBe("block");
    expect(evaluateWebAcl(acl(rule("size", 0, bodySize(100))), post(bytes(100))).action).toBe("allow");
    expect(evaluateWebAcl(acl(rule("size", 0, bodySize(8_192))), large).action).toBe("allow");
    expect(evaluateWebAcl(acl(rule("size", 0, bodySize(8_192, "CONTINUE"))), large).action).toBe("allow");
    expect(evaluateWebAcl(acl(rule("size", 0, bodySize(8_192, "MATCH"))), large)).toEqual({ action: "block", terminatingRule: "size", counted: [] });
    expect(evaluateWebAcl(acl(rule("size", 0, bodySize(100, "NO_MATCH"))), large).action).toBe("allow");
  });

  test("AND, OR and NOT of byte matches, with text transformations, in priority order; count goes on, allow ends", () => {
    const match = (search: string, where: Json, constraint = "CONTAINS", type = "LOWERCASE") => ({
      byte_match_statement: { search_string: search, positional_constraint: constraint, field_to_match: where, text_transformation: [{ priority: 0, type }] },
    });
    const isPost = match("POST", { method: {} }, "EXACTLY", "NONE");
    const notes = match("/notes", { uri_path: {} }, "STARTS_WITH");
    const evil = match("evil", { body: {} }, "CONTAINS_WORD");
    const web = acl(
      rule("count-posts", 0, { and_statement: { statement: [isPost, notes] } }, { count: {} }),
      rule("allow-health", 1, match("/health", { uri_path: {} }, "EXACTLY"), { allow: {} }),
      rule("no-evil", 2, {
        or_statement: { statement: [evil, { not_statement: { statement: match("application/json", { single_header: { name: "content-type" } }) } }] },
      }),
    );
    expect(evaluateWebAcl(web, post('{"body":"EVIL plans"}'))).toEqual({ action: "block", terminatingRule: "no-evil", counted: ["count-posts"] });
    expect(evaluateWebAcl(web, post('{"body":"medieval"}'))).toEqual({ action: "allow", counted: ["count-posts"] });
    expect(evaluateWebAcl(web, post("{}", { headers: { "user-agent": "node", "content-type": "text/plain" } })).terminatingRule).toBe("no-evil");
    expect(evaluateWebAcl(web, { ...post('{"body":"evil"}'), method: "GET", uri: "/health" })).toEqual({
      action: "allow",
      terminatingRule: "allow-health",
      counted: [],
    });
    expect(evaluateWebAcl({ ...acl(), default_action: { block: {} } }, post("{}")).action).toBe("block");
  });

  test("a rate-based rule blocks once the client's requests in the window exceed its limit, counting only what its scope-down matches", () => {
    const rate = (scope?: Json) =>
      acl(
        rule("rate", 0, {
          rate_based_statement: { limit: 2000, aggregate_key_type: "IP", evaluation_window_sec: 300, ...(scope ? { scope_down_statement: scope } : {}) },
        }),
      );
    expect(evaluateWebAcl(rate(), post("{}", { priorRequestsInWindow: 1999 })).action).toBe("allow");
    expect(evaluateWebAcl(rate(), post("{}", { priorRequestsInWindow: 2000 })).action).toBe("block");
    const onlyGets = {
      byte_match_statement: {
        search_string: "GET",
        positional_constraint: "EXACTLY",
        field_to_match: { method: {} },
        text_transformation: [{ priority: 0, type: "NONE" }],
      },
    };
    expect(evaluateWebAcl(rate(onlyGets), post("{}", { priorRequestsInWindow: 5000 })).action).toBe("allow");
  });

  test("a statement, a managed rule group or a field it does not know is refused, named, never passed", () => {
    expect(() => evaluateWebAcl(acl(rule("geo", 0, { geo_match_statement: { country_codes: ["XX"] } })), post("{}"))).toThrow(/geo_match_statement/);
    const other = commonRule();
    other.statement.managed_rule_group_statement.name = "AWSManagedRulesSQLiRuleSet";
    expect(() => evaluateWebAcl(acl(other), post("{}"))).toThrow(/AWS\/AWSManagedRulesSQLiRuleSet/);
    const cookies = { size_constraint_statement: { comparison_operator: "GT", size: 1, field_to_match: { cookies: {} }, text_transformation: [] } };
    expect(() => evaluateWebAcl(acl(rule("c", 0, cookies)), post("{}"))).toThrow(/cookies/);
  });
});

// Where an environment ships a web ACL, the game day evaluates that one: the probes' verdicts as synthesized.
const withWaf = environments.filter((e) => parseSettings(e).waf.enabled);
describe.each(withWaf.map((e) => [e.name, e] as const))("the synthesized web ACL of %s", (_, settings) => {
  const config = parseSettings(settings);
  // The ACL as synthesized, read directly: an environment may have no database, which the rest of the game day needs.
  const web = Object.values(synth(settings).resource.aws_wafv2_web_acl ?? {})[0] as Parameters<typeof evaluateWebAcl>[0];

  test("blocks a body over 8,192 bytes unless the settings count SizeRestrictions_BODY, and counts or blocks the body rules as waf.countRules says", () => {
    const sizeCounted = config.waf.countRules.includes("SizeRestrictions_BODY");
    expect(evaluateWebAcl(web, post(bytes(8_192))).action).toBe("allow");
    expect(evaluateWebAcl(web, post(bytes(8_193))).action).toBe(sizeCounted ? "allow" : "block");
    const html = evaluateWebAcl(web, post('{"body":"<script>alert(1)</script>"}'));
    expect(html.action).toBe(config.waf.countRules.includes("CrossSiteScripting_BODY") ? "allow" : "block");
    expect(evaluateWebAcl(web, post("{}", { priorRequestsInWindow: config.waf.rateLimitPer5Minutes })).terminatingRule).toBe("rate-limit-per-ip");
  });
});
