import type { Construct } from "constructs";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";

/** Something with a security group that others may reach or that may reach them: `a.connections.allowTo(b)`. */
export interface IConnectable {
  readonly connections: Connections;
}

export interface ConnectionsProps {
  /** The security group whose rules these are. */
  readonly securityGroupId: string;
  /**
   * What the rules name this by: `Service`, `Database`, `LoadBalancer`. A rule's id is `IngressFrom<kind>` or
   * `EgressTo<kind>` of the other end (numbered from the second of a kind on), so adding a peer never renames
   * (and replaces) the rules already deployed.
   */
  readonly kind: string;
  /** The port others reach this on when they name none (a database's PostgreSQL port, a task's container port). @default none: they must name one */
  readonly defaultPort?: number;
  /** The description of a rule that lets `from` in. */
  readonly ingressDescription: (from: Connections) => string;
  /** The description of a peer's rule out to this. */
  readonly egressDescription: string;
}

/**
 * The one way to open network access between two things with security groups, as aws-cdk's
 * `connections`: `service.connections.allowTo(database)` adds both ends, the database's way in from the
 * service's group and the service's way out to the database's, each made by the construct that owns its
 * group. Repeating a connection adds nothing. A construct that owns a security group exposes one
 * (`connections`), and a new kind of resource is connected the same way, with no method of its own.
 */
export class Connections implements IConnectable {
  readonly securityGroupId: string;
  readonly kind: string;
  readonly defaultPort?: number;
  private readonly opened = new Set<string>();
  private readonly counts = new Map<string, number>();

  /** @param scope the construct that owns the security group: the rules on it are made under it */
  constructor(
    private readonly scope: Construct,
    private readonly props: ConnectionsProps,
  ) {
    this.securityGroupId = props.securityGroupId;
    this.kind = props.kind;
    this.defaultPort = props.defaultPort;
  }

  get connections(): Connections {
    return this;
  }

  /** Lets this reach `other` on `port` (its default port unless given): this group's way out, and `other`'s way in. */
  allowTo(other: IConnectable, port?: number): void {
    const to = other.connections;
    const on = port ?? to.defaultPort;
    if (on === undefined) throw new Error(`${this.scope.node.path}: no port to reach ${to.scope.node.path} on; give one, or a defaultPort to its connections`);
    const key = `${to.securityGroupId}:${on}`;
    if (this.opened.has(key)) return;
    this.opened.add(key);
    new VpcSecurityGroupEgressRule(this.scope, this.ruleId("EgressTo", to.kind), {
      securityGroupId: this.securityGroupId,
      description: to.props.egressDescription,
      ipProtocol: "tcp",
      fromPort: on,
      toPort: on,
      referencedSecurityGroupId: to.securityGroupId,
    });
    to.admit(this, on);
  }

  /** Lets `other` reach this on `port` (this one's default port unless given): the same two rules, seen from here. */
  allowFrom(other: IConnectable, port?: number): void {
    other.connections.allowTo(this, port ?? this.defaultPort);
  }

  /** This group's way in from `from`, on `port`. */
  private admit(from: Connections, port: number): void {
    new VpcSecurityGroupIngressRule(this.scope, this.ruleId("IngressFrom", from.kind), {
      securityGroupId: this.securityGroupId,
      description: this.props.ingressDescription(from),
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      referencedSecurityGroupId: from.securityGroupId,
    });
  }

  /** `IngressFromService`, then `IngressFromService2`, …: the ids every deployed stack already has. */
  private ruleId(direction: string, kind: string): string {
    const stem = `${direction}${kind}`;
    const n = (this.counts.get(stem) ?? 0) + 1;
    this.counts.set(stem, n);
    return n === 1 ? stem : `${stem}${n}`;
  }
}
