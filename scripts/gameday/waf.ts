/**
 * A web ACL's decision on one request, evaluated from the synthesized `aws_wafv2_web_acl` itself (its
 * rules, their statements, actions and overrides, its default action) as AWS WAF documents it. Pure: no
 * AWS, no app. It shares no constant with the API (app/src) nor with the stack (lib/): every figure here
 * is AWS's, named with the page that states it, so the game day's check that the API and the web ACL
 * agree cannot agree with itself.
 *
 * What it evaluates: size constraint and byte match statements (field, text transformations, oversize
 * handling), AND / OR / NOT, rate-based statements (given the requests the client's key already made in
 * the window) with their scope-down, and AWS managed rule groups with their rule action overrides,
 * excluded rules and scope-down statements. A managed rule group's rules are AWS's and unpublished: the
 * ones the game day's probes exercise are encoded from their documented behaviour (MANAGED_RULES); every
 * other rule of a known group is taken as not matching, and a group or statement it does not know is
 * refused, naming it, so a new rule cannot pass unevaluated.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- synthesized Terraform JSON has no static types, as in stack.ts
type Json = Record<string, any>;

/**
 * What AWS WAF inspects of a body behind an Application Load Balancer: the first 8 KB (8,192 bytes), fixed for
 * ALB ("For Application Load Balancer and AWS AppSync, the limit is fixed at 8 KB (8,192 bytes)"): AWS WAF
 * Developer Guide, "Considerations for managing body inspection in AWS WAF"
 * (https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-setting-body-inspection-limit.html), and
 * the WAFV2 API Reference, `Body` (https://docs.aws.amazon.com/waf/latest/APIReference/API_Body.html).
 */
export const ALB_BODY_INSPECTION_LIMIT_BYTES = 8_192;

export interface WafRequest {
  readonly method: string;
  /** The path and query as the client sends them, e.g. `/notes?x=1`. */
  readonly uri: string;
  /** Header name (any case) → value. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
  /** Requests from this request's aggregate key (its IP) already counted in a rate-based rule's window. @default 0 */
  readonly priorRequestsInWindow?: number;
}

export type WafAction = "allow" | "block";

export interface WafDecision {
  readonly action: WafAction;
  /** The rule that ended the evaluation (`<rule>` or `<group>:<rule of the group>`); none when the default action applied. */
  readonly terminatingRule?: string;
  /** Rules that matched and counted (evaluation went on). */
  readonly counted: readonly string[];
}

/** The request as WAF's rules see it: the body cut to what the load balancer forwards. */
interface Inspected {
  readonly request: WafRequest;
  readonly body: Buffer;
  readonly bodySize: number;
  readonly header: (name: string) => string | undefined;
}

type ManagedRule = { readonly name: string; readonly matches: (r: Inspected) => boolean };

/** Text after WAF's decoding for the managed rules that inspect content (they decode URL and HTML encodings). */
const decoded = (text: string): string => htmlEntityDecode(urlDecode(text));
const bodyText = (r: Inspected): string => decoded(r.body.toString("utf8"));
const path = (r: Inspected): string => r.request.uri.split("?")[0];
const query = (r: Inspected): string => r.request.uri.split("?").slice(1).join("?");

/**
 * The documented behaviour of the managed rules the probes exercise; each group's other rules are taken as
 * not matching. AWS publishes each rule's intent and, for the size rules, its exact figure, not its patterns:
 * AWS WAF Developer Guide, "Baseline rule groups", Core rule set (CRS) managed rule group
 * (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html), and
 * "Known bad inputs managed rule group" and "Amazon IP reputation list managed rule group" on the same and the
 * neighbouring pages. The content rules (XSS, LFI, RFI, SSRF) are this module's reading of the examples that page
 * gives, not AWS's rule logic.
 */
export const MANAGED_RULES: Readonly<Record<string, readonly ManagedRule[]>> = {
  AWSManagedRulesCommonRuleSet: [
    // "Inspects for requests that are missing the HTTP User-Agent header."
    { name: "NoUserAgent_HEADER", matches: (r) => !r.header("user-agent") },
    // "Inspects for URI query strings that are over 2,048 bytes."
    { name: "SizeRestrictions_QUERYSTRING", matches: (r) => Buffer.byteLength(query(r)) > 2_048 },
    // "Inspects for cookie headers that are over 10,240 bytes."
    { name: "SizeRestrictions_Cookie_HEADER", matches: (r) => Buffer.byteLength(r.header("cookie") ?? "") > 10_240 },
    // "Inspects for request bodies that are over 8 KB (8,192 bytes)": the body's size, not what is forwarded of it.
    { name: "SizeRestrictions_BODY", matches: (r) => r.bodySize > 8_192 },
    // "Inspects for URI paths that are over 1,024 bytes."
    { name: "SizeRestrictions_URIPATH", matches: (r) => Buffer.byteLength(path(r)) > 1_024 },
    // Attempts to exfiltrate EC2 metadata from the body: the instance metadata address.
    { name: "EC2MetaDataSSRF_BODY", matches: (r) => /169\.254\.169\.254|\[?fd00:ec2::254\]?/i.test(bodyText(r)) },
    // Local file inclusion in the body, e.g. "path traversal attempts using techniques like ../../".
    { name: "GenericLFI_BODY", matches: (r) => /\.\.[/\\]/.test(bodyText(r)) },
    // Remote file inclusion in the body: "web applications that contain IPv4 addresses in the URI" (http(s)://<IPv4>).
    { name: "GenericRFI_BODY", matches: (r) => /https?:\/\/\d{1,3}(\.\d{1,3}){3}/i.test(bodyText(r)) },
    // Common cross-site scripting patterns in the body: a script element, an event handler attribute, a javascript: URL.
    {
      name: "CrossSiteScripting_BODY",
      matches: (r) => /<\s*script\b|<[^>]*\son[a-z]+\s*=|javascript\s*:|<\s*(iframe|object|embed|svg)\b/i.test(bodyText(r)),
    },
  ],
  AWSManagedRulesKnownBadInputsRuleSet: [
    // "Inspects the request host header for patterns indicating localhost."
    { name: "Host_localhost_HEADER", matches: (r) => /^(localhost|127\.0\.0\.1|\[?::1\]?)(:\d+)?$/i.test(r.header("host") ?? "") },
    // "Inspects for PROPFIND in the request method."
    { name: "PROPFIND_METHOD", matches: (r) => r.request.method.toUpperCase() === "PROPFIND" },
    // Log4j's lookup (CVE-2021-44228) in the body: "${jndi:".
    { name: "Log4JRCE_BODY", matches: (r) => /\$\{jndi:/i.test(bodyText(r)) },
  ],
  // Addresses on Amazon's threat intelligence lists: none of the game day's (a client on this machine).
  AWSManagedRulesAmazonIpReputationList: [],
};

/** The web ACL's decision on `request`, rule by rule in priority order, as WAF evaluates it. */
export function evaluateWebAcl(acl: Json, request: WafRequest): WafDecision {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body);
  const headers = new Map(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const inspected: Inspected = {
    request,
    body: body.subarray(0, ALB_BODY_INSPECTION_LIMIT_BYTES),
    bodySize: body.length,
    header: (name) => headers.get(name.toLowerCase()),
  };
  const counted: string[] = [];
  const rules = [...list(acl.rule)].sort((a, b) => a.priority - b.priority);
  for (const rule of rules) {
    const statement = one(rule.statement) ?? {};
    const group = one(statement.managed_rule_group_statement);
    if (group) {
      const outcome = managedGroup(group, one(rule.override_action), inspected, rule.name);
      counted.push(...outcome.counted);
      if (outcome.terminating) return { action: outcome.terminating.action, terminatingRule: outcome.terminating.rule, counted };
      continue;
    }
    if (!matches(statement, inspected)) continue;
    const action = actionOf(one(rule.action), rule.name);
    if (action === "count") counted.push(rule.name);
    else return { action, terminatingRule: rule.name, counted };
  }
  const fallback = one(acl.default_action);
  return { action: fallback?.block ? "block" : "allow", counted };
}

function managedGroup(
  group: Json,
  overrideAction: Json | undefined,
  r: Inspected,
  ruleName: string,
): { counted: string[]; terminating?: { action: WafAction; rule: string } } {
  const known = MANAGED_RULES[group.name];
  if (group.vendor_name !== "AWS" || !known)
    throw new Error(
      `rule ${ruleName}: the game day's WAF evaluator knows no rules of the managed rule group ${group.vendor_name}/${group.name}; ` +
        `encode the documented behaviour of the rules the probes exercise in scripts/gameday/waf.ts (MANAGED_RULES)`,
    );
  const scopeDown = one(group.scope_down_statement);
  if (scopeDown && !matches(scopeDown, r)) return { counted: [] };
  const overrides = new Map<string, Json>(list(group.rule_action_override).map((o): [string, Json] => [o.name, one(o.action_to_use) ?? {}]));
  // Excluded rules (the provider's older `excluded_rule`) count instead of acting.
  for (const excluded of list(group.excluded_rule)) overrides.set(excluded.name, { count: {} });
  const counted: string[] = [];
  for (const rule of known) {
    if (!rule.matches(r)) continue;
    const name = `${group.name}:${rule.name}`;
    // Every rule of AWS's groups blocks unless overridden; a group-wide count (override_action count) counts them all.
    const own = overrides.get(rule.name);
    const action = overrideAction?.count ? "count" : own ? actionOf(own, name) : "block";
    if (action === "count") counted.push(name);
    else return { counted, terminating: { action, rule: name } };
  }
  return { counted };
}

function actionOf(action: Json | undefined, rule: string): WafAction | "count" {
  if (action?.block) return "block";
  if (action?.allow) return "allow";
  if (action?.count) return "count";
  // A CAPTCHA or challenge stops a client without a browser (an API's) as a block would.
  if (action?.captcha || action?.challenge) return "block";
  throw new Error(`rule ${rule}: an action the game day's WAF evaluator does not know: ${JSON.stringify(action)}`);
}

/** Whether a (non-managed) statement matches. */
function matches(statement: Json, r: Inspected): boolean {
  const [[type, raw] = []] = Object.entries(statement).filter(([, v]) => v !== undefined && v !== null);
  const s = one(raw) as Json;
  switch (type) {
    case "and_statement":
      return list(s.statement).every((inner) => matches(inner, r));
    case "or_statement":
      return list(s.statement).some((inner) => matches(inner, r));
    case "not_statement":
      return !matches(one(s.statement) ?? {}, r);
    case "size_constraint_statement":
      return sizeConstraint(s, r);
    case "byte_match_statement":
      return byteMatch(s, r);
    case "rate_based_statement": {
      // Over the limit once the key's requests in the window, this one included, exceed it; only requests the scope-down matches count.
      const scopeDown = one(s.scope_down_statement);
      if (scopeDown && !matches(scopeDown, r)) return false;
      if ((s.aggregate_key_type ?? "IP") !== "IP") throw new Error(`a rate-based statement aggregated by ${s.aggregate_key_type}: only IP is evaluated here`);
      return (r.request.priorRequestsInWindow ?? 0) + 1 > Number(s.limit);
    }
    default:
      throw new Error(`a ${type} the game day's WAF evaluator does not evaluate (scripts/gameday/waf.ts)`);
  }
}

/**
 * The part of the request a statement inspects, after its text transformations; `oversize` when the body
 * is larger than the load balancer forwards (its handling then decides: WAFV2 API Reference, `Body`).
 */
function field(fieldToMatch: Json, transformations: Json, r: Inspected): { value: Buffer; oversize: boolean; handling: string } {
  const f = one(fieldToMatch) ?? {};
  const [[name, rawSpec] = []] = Object.entries(f).filter(([, v]) => v !== undefined && v !== null);
  const spec = (one(rawSpec) ?? {}) as Json;
  let value: string;
  let oversize = false;
  let handling = "CONTINUE";
  switch (name) {
    case "body":
      value = r.body.toString("latin1");
      oversize = r.bodySize > ALB_BODY_INSPECTION_LIMIT_BYTES;
      handling = spec.oversize_handling ?? "CONTINUE";
      break;
    case "uri_path":
      value = path(r);
      break;
    case "query_string":
      value = query(r);
      break;
    case "method":
      value = r.request.method;
      break;
    case "single_header":
      value = r.header(spec.name) ?? "";
      break;
    default:
      throw new Error(`field_to_match ${name}: not evaluated by the game day's WAF evaluator (scripts/gameday/waf.ts)`);
  }
  const steps = list(transformations).sort((a, b) => a.priority - b.priority);
  for (const t of steps) value = transform(t.type, value);
  return { value: Buffer.from(value, "latin1"), oversize, handling };
}

function transform(type: string, text: string): string {
  switch (type) {
    case "NONE":
      return text;
    case "LOWERCASE":
      return text.toLowerCase();
    case "URL_DECODE":
      return urlDecode(text);
    case "HTML_ENTITY_DECODE":
      return htmlEntityDecode(text);
    case "COMPRESS_WHITE_SPACE":
      return text.replace(/[\t\n\v\f\r ]+/g, " ");
    default:
      throw new Error(`text transformation ${type}: not evaluated by the game day's WAF evaluator (scripts/gameday/waf.ts)`);
  }
}

/**
 * A size constraint on the inspected part. A body past what the load balancer forwards follows its oversize
 * handling: MATCH or NO_MATCH decide, CONTINUE (the default) compares the forwarded part only, so "body larger
 * than 8,192" never matches behind an ALB with CONTINUE (WAFV2 API Reference, `SizeConstraintStatement` and `Body`).
 */
function sizeConstraint(s: Json, r: Inspected): boolean {
  const { value, oversize, handling } = field(s.field_to_match, s.text_transformation, r);
  if (oversize && handling === "MATCH") return true;
  if (oversize && handling === "NO_MATCH") return false;
  const size = value.length;
  const limit = Number(s.size);
  switch (s.comparison_operator) {
    case "EQ":
      return size === limit;
    case "NE":
      return size !== limit;
    case "LE":
      return size <= limit;
    case "LT":
      return size < limit;
    case "GE":
      return size >= limit;
    case "GT":
      return size > limit;
    default:
      throw new Error(`size constraint operator ${s.comparison_operator}: not one of WAF's`);
  }
}

/** A byte match: the search string in the inspected part, by its positional constraint (WAFV2 API Reference, `ByteMatchStatement`). */
function byteMatch(s: Json, r: Inspected): boolean {
  const { value, oversize, handling } = field(s.field_to_match, s.text_transformation, r);
  if (oversize && handling === "MATCH") return true;
  if (oversize && handling === "NO_MATCH") return false;
  const text = value.toString("latin1");
  const search = Buffer.from(String(s.search_string), "utf8").toString("latin1");
  switch (s.positional_constraint) {
    case "EXACTLY":
      return text === search;
    case "STARTS_WITH":
      return text.startsWith(search);
    case "ENDS_WITH":
      return text.endsWith(search);
    case "CONTAINS":
      return text.includes(search);
    case "CONTAINS_WORD": {
      const word = /[A-Za-z0-9_]/;
      for (let i = text.indexOf(search); i >= 0; i = text.indexOf(search, i + 1)) {
        const before = text[i - 1];
        const after = text[i + search.length];
        if ((before === undefined || !word.test(before)) && (after === undefined || !word.test(after))) return true;
      }
      return false;
    }
    default:
      throw new Error(`byte match positional constraint ${s.positional_constraint}: not one of WAF's`);
  }
}

function urlDecode(text: string): string {
  return text.replace(/(%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

function htmlEntityDecode(text: string): string {
  const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'", nbsp: "\u00a0" };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, code: string) => {
    if (code[0] === "#") return String.fromCodePoint(code[1].toLowerCase() === "x" ? parseInt(code.slice(2), 16) : Number(code.slice(1)));
    return named[code.toLowerCase()] ?? entity;
  });
}

/** Terraform JSON writes a nested block as an object or a one-element list; either, as one. */
function one(value: unknown): Json | undefined {
  if (Array.isArray(value)) return value[0];
  return (value ?? undefined) as Json | undefined;
}

function list(value: unknown): Json[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value as Json];
}
