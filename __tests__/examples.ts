import { dev, prod } from "../stacks/environments";
import type { EnvironmentSettings } from "../stacks/settings";

/**
 * Variants of the environments that the offline plan proves too, so every mode a forker can switch
 * on is known to be valid Terraform.
 */
export const examples: readonly EnvironmentSettings[] = [
  // No NAT gateway: tasks in public subnets with public IPs; image and tag from settings.
  { ...dev, name: "dev-nonat", network: { ...dev.network, natMode: "none" }, task: { ...dev.task, image: { tag: "v1.2.3" } } },
  // HTTPS with a new DNS-validated certificate and an alias record in a hosted zone.
  {
    ...prod,
    name: "prod-https",
    loadBalancer: { ...prod.loadBalancer, https: { domainName: "api.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ" } },
  },
];

/** What each stack's offline plan must create, by resource type. */
export const EXPECTED_CREATES: Record<string, Record<string, number>> = {
  dev: {},
  prod: {},
  "dev-nonat": {},
  "prod-https": {},
};
