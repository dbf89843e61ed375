import { dev, prod } from "../../environments/environments";
import { SettingError } from "../../lib/settings/validate";
import type { EnvironmentSettings } from "../../lib/settings/environment/settings";

/** What a variant is made of: its base environment and what it changes, for messages that name it. */
interface VariantOrigin {
  readonly base: string;
  /** The sections it changes, e.g. `database`, `task`. */
  readonly changes: readonly string[];
}
const origins = new WeakMap<object, VariantOrigin>();

type Changes = {
  readonly [K in keyof EnvironmentSettings]?: K extends "services" | "ci" | "state" ? EnvironmentSettings[K] : Partial<NonNullable<EnvironmentSettings[K]>>;
};

/**
 * A variant of an environment: its name and the sections it changes, each merged over the base's (one
 * level: `network: { natMode: "single" }` keeps the base's other network settings); everything else is
 * inherited. Nothing is checked here, so a variant a fork's settings rule out fails only the tests that
 * use it (see `variantError`), never every suite that imports this file.
 */
export function variant(base: EnvironmentSettings, name: string, changes: Changes): EnvironmentSettings {
  const merged: Record<string, unknown> = { ...base, name };
  for (const [key, value] of Object.entries(changes)) {
    const inherited = (base as unknown as Record<string, unknown>)[key];
    const plain = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
    merged[key] = plain(value) && plain(inherited) && key !== "state" ? { ...(inherited as object), ...(value as object) } : value;
  }
  const settings = merged as unknown as EnvironmentSettings;
  origins.set(settings, { base: base.name, changes: Object.keys(changes) });
  return settings;
}

/** The services of an environment with no database grant: what a variant without a database can inherit of them. */
export function withoutDatabaseGrants(services: EnvironmentSettings["services"]): NonNullable<EnvironmentSettings["services"]> {
  return Object.fromEntries(Object.entries(services ?? {}).map(([key, service]) => [key, { ...service, database: false }]));
}

/**
 * A setting error of a variant, said as one: an inherited setting its change rules out (dev's worker
 * granted the database, in a variant without one) names the variant, what it changes and where the
 * setting comes from. Undefined for settings that are no variant, and errors of what it changes itself.
 */
export function variantError(settings: EnvironmentSettings, error: unknown): Error | undefined {
  const origin = origins.get(settings);
  if (!origin || !(error instanceof SettingError)) return undefined;
  const section = error.setting.split(".")[0];
  if (origin.changes.includes(section)) return undefined;
  return new Error(
    `Variant ${settings.name} (${origin.base} with ${origin.changes.join(", ")} changed) cannot apply ${error.setting}, inherited from ${origin.base}: ` +
      `${error.message} Declare what ${settings.name} does with ${section} in __tests__/support/variants.ts (e.g. \`withoutDatabaseGrants\`), or change ${origin.base}.`,
  );
}

/**
 * Variants of the environments that the offline plan proves too, so every mode a forker can switch
 * on is known to be valid Terraform. Each is built from dev or prod, so a fork's settings flow into them.
 */
export const examples: readonly EnvironmentSettings[] = [
  // The cheapest sandbox: dev without a database (so no service of dev's may be granted one), and an image tag from settings.
  variant(dev, "dev-lite", {
    database: { enabled: false },
    services: withoutDatabaseGrants(dev.services),
    task: { image: { tag: "v1.2.3" } },
  }),
  // EC2 execution mode: dev with a NAT gateway (tasks on EC2 get no public IP) and VPC endpoints, and a
  // pinned AMI as an offline plan needs.
  variant(dev, "dev-ec2", {
    network: { natMode: "single", endpoints: true },
    compute: { mode: "ec2", ec2: { amiId: "ami-0123456789abcdef0" } },
  }),
  // Three services: the default API, a second API on /admin behind its own listener rule and target
  // group, and a worker (no port, no target group) that alone of the two is given the database.
  variant(dev, "dev-services", {
    // The worker is granted the database, so the variant has one whatever dev says.
    database: { enabled: true },
    services: {
      admin: { route: { pathPatterns: ["/admin", "/admin/*"], healthCheck: { path: "/admin/health" } }, autoscaling: { maxCapacity: 2 } },
      worker: { task: { cpu: 256, memory: 512, command: ["dist/worker.mjs"] }, database: true, autoscaling: { maxCapacity: 2 } },
    },
  }),
  // Every shape beside the API (issue 23): a queue-fed worker that scales to zero on its backlog, the
  // API publishing to its queue, and a nightly job on a cron schedule in a time zone, both on the
  // database, all on the API's image (app/: dist/worker.mjs, dist/housekeeping.mjs).
  variant(dev, "dev-workers", {
    // Both are granted the database, so the variant has one whatever dev says.
    database: { enabled: true },
    services: {
      worker: {
        task: { cpu: 256, memory: 512, command: ["dist/worker.mjs"] },
        database: true,
        service: { desiredCount: 0 },
        autoscaling: { minCapacity: 0, maxCapacity: 2 },
        queue: { publishers: ["api"] },
      },
    },
    jobs: {
      nightly: {
        schedule: "cron(30 3 * * ? *)",
        timezone: "Europe/Berlin",
        task: { cpu: 256, memory: 512, command: ["dist/housekeeping.mjs"] },
        database: true,
      },
    },
  }),
];

/**
 * Variants planned offline only. CI access adds IAM alone, which the emulator does not enforce, so the
 * emulator lifecycle would prove nothing more about it (its creation is proven by the release emulator test);
 * an imported certificate differs from prod only in the listener's ARN, which the emulator cannot hold.
 */
export const planOnlyExamples: readonly EnvironmentSettings[] = [
  // GitHub Actions deploys dev: the OIDC provider and a deploy role, with its state in S3.
  variant(dev, "dev-ci", {
    state: { backend: "s3", bucket: "acme-terraform-state" },
    ci: { githubRepository: "acme/rest-api", workflows: ["release-dev.yml"] },
  }),
  // Prod with an existing certificate instead of a new one, and no domain of its own. (Prod itself proves a
  // new DNS-validated certificate with its alias record.)
  variant(prod, "prod-certificate", {
    loadBalancer: { https: { certificateArn: `arn:aws:acm:${prod.region ?? "us-east-1"}:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef` } },
  }),
];
