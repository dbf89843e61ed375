import { Annotations, TerraformLocal, type TerraformResource } from "cdktf";
import type { Construct } from "constructs";

/**
 * A setting that marks an example (the shipped prod's example.com domain, one of AWS's documentation
 * accounts): synth warns on `scope`, and with `guard` every plan fails at `anchor`, before anything is
 * created, with `message` naming the setting and what to set. Synth cannot refuse it: cdktf synthesizes
 * every stack for any command, and dev must deploy while prod still shows the example. Terraform wants a
 * condition that reads something of the configuration: the value, as a local (`localId` in `scope`).
 */
export function refuseExampleAtPlan(props: {
  readonly scope: Construct;
  readonly localId: string;
  readonly value: string;
  readonly anchor: TerraformResource;
  readonly message: string;
  readonly guard: boolean;
}): void {
  const { scope, value, message } = props;
  Annotations.of(scope).addWarning(`${message} Planning this stack against AWS fails until then.`);
  if (!props.guard) return;
  const local = new TerraformLocal(scope, props.localId, value);
  props.anchor.addOverride("lifecycle.precondition", [{ condition: `\${${local.fqn} != "${value}"}`, error_message: message }]);
}
