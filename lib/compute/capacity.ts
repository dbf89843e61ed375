/** One entry of a capacity provider strategy: how many tasks go to a provider, and their share after that. */
export interface CapacityProviderStrategy {
  readonly capacityProvider: string;
  readonly base: number;
  readonly weight: number;
}

/**
 * Where a cluster's tasks run, Fargate (lib/compute/fargate/fargate-capacity.ts) or EC2 instances
 * (lib/compute/ec2/ec2-capacity.ts): what the cluster owns, and what a task definition and a service must agree
 * with. The chapter's big decision, answered in one place instead of in every construct.
 */
export interface Capacity {
  /** The task definition's `requiresCompatibilities`. */
  readonly compatibility: "FARGATE" | "EC2";
  /** The cluster's default capacity provider strategy; each service repeats it, so a later change here reaches it. */
  readonly strategy: readonly CapacityProviderStrategy[];
  /** Capacity providers the cluster registers beside FARGATE and FARGATE_SPOT. */
  readonly extraProviderNames: readonly string[];
  /** Whether a task may take a public IP (Fargate's may; an `awsvpc` task on an EC2 instance cannot). */
  readonly publicIpCapable: boolean;
  /** Where a service places its tasks; only EC2 capacity accepts placement strategies. */
  readonly placement: readonly { readonly type: string; readonly field: string }[];
}
