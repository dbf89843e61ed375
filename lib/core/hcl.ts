import { Fn, type IResolvable, Token } from "cdktf";

/**
 * Values that cdktf's HCL writer (`cdktf synth --hcl`, switched on by SYNTH_HCL_OUTPUT) would write
 * wrongly, built so both outputs mean the same: `cdk.tf.json` keeps plain values, which diffs, tests
 * and `terraform plan` read as they are; `cdk.tf` gets expressions. The offline plan test compares
 * the two plans value by value.
 */
export function synthesizingHcl(): boolean {
  return ["true", "1"].includes(process.env.SYNTH_HCL_OUTPUT ?? "");
}

/**
 * A JSON document for a string argument (IAM policies, container definitions). In HCL it is
 * `jsonencode(...)`: the writer leaves a string's quotes unescaped once it holds a reference, so a
 * JSON string with an ARN in it would not parse.
 */
export function jsonString(value: unknown): string {
  return synthesizingHcl() ? Fn.jsonencode(hclEscaped(value)) : JSON.stringify(value);
}

/**
 * "No blocks at all" for an attribute-as-blocks argument (a default security group's `ingress`):
 * the HCL writer drops an empty list, and a missing argument means "leave the rules alone" instead.
 */
export function noBlocks(): IResolvable | never[] {
  return synthesizingHcl() ? Token.asAny(Fn.tolist([])) : [];
}

/** String literals as HCL needs them inside an expression, which cdktf writes without escaping (a shell command's quotes). */
function hclEscaped(value: unknown): unknown {
  if (typeof value === "string") return Token.isUnresolved(value) ? value : value.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  if (Array.isArray(value)) return value.map(hclEscaped);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hclEscaped(v)]));
  return value;
}
