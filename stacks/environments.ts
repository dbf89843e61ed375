import type { EnvironmentSettings } from "./settings";

/**
 * The environments, one stack each. This is the file a forker edits: rename the project, change the
 * region or sizes here. Anything left out takes the default documented in the README settings table.
 */

/** Sandbox: cheap, short-lived, destroys cleanly. */
export const dev: EnvironmentSettings = {
  name: "dev",
  project: "rest-api",
  region: "us-east-1",
  availabilityZones: ["us-east-1a", "us-east-1b"],
  network: { cidr: "10.10.0.0/16", natMode: "single", flowLogRetentionDays: 7 },
  registry: { keepImages: 10, forceDelete: true },
};

/** Production: highly available across three AZs and protected from accidental deletion. */
export const prod: EnvironmentSettings = {
  name: "prod",
  project: "rest-api",
  region: "us-east-1",
  availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"],
  network: { cidr: "10.20.0.0/16", natMode: "per-az", flowLogRetentionDays: 90 },
  registry: { keepImages: 50, forceDelete: false },
};

export const environments: readonly EnvironmentSettings[] = [dev, prod];
