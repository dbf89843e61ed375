import { dev, prod } from "../stacks/environments";
import type { EnvironmentSettings } from "../stacks/settings";

/**
 * Variants of the environments that the offline plan proves too, so every mode a forker can switch
 * on is known to be valid Terraform.
 */
export const examples: readonly EnvironmentSettings[] = [
  { ...dev, name: "dev-nonat", network: { ...dev.network, natMode: "none" } },
];

/** What each stack's offline plan must create, by resource type. */
export const EXPECTED_CREATES: Record<string, Record<string, number>> = {
  dev: {},
  prod: {},
  "dev-nonat": {},
};
