import type { Capacity, CapacityProviderStrategy } from "../capacity";

/** How tasks split between on-demand Fargate and Fargate Spot (checked by ClusterSettingsSchema). */
export interface FargateCapacityProps {
  /** Tasks always on on-demand Fargate. */
  readonly onDemandBase: number;
  /** Share of further tasks on on-demand Fargate. */
  readonly onDemandWeight: number;
  /** Share of further tasks on Fargate Spot (X86_64 tasks only). */
  readonly spotWeight: number;
}

/** Fargate: AWS runs the servers, so there is nothing to create, only a strategy to state. */
export class FargateCapacity implements Capacity {
  readonly compatibility = "FARGATE";
  readonly strategy: readonly CapacityProviderStrategy[];
  readonly extraProviderNames: readonly string[] = [];
  readonly publicIpCapable = true;
  // Fargate places tasks over the service's subnets itself.
  readonly placement = [];

  constructor(props: FargateCapacityProps) {
    this.strategy = [
      { capacityProvider: "FARGATE", base: props.onDemandBase, weight: props.onDemandWeight },
      ...(props.spotWeight > 0 ? [{ capacityProvider: "FARGATE_SPOT", base: 0, weight: props.spotWeight }] : []),
    ];
  }
}
