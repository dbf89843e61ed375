/**
 * The path between the tasks and the database, with a failover's fault: a TCP proxy in front of
 * PostgreSQL that the tasks reach as DB_HOST:DB_PORT. `blackhole()` makes every connection go silent
 * (no byte either way, no FIN, no RST), as an RDS Multi-AZ failover leaves the old primary's sockets,
 * and new connections silent too (accepted, never answered: the DNS name still points at the old
 * primary); `restore()` sends new connections to the database again (the new primary) while the old ones
 * stay silent for good, as the old primary never answers them again. Otherwise bytes and closes pass as
 * they are: a database that closes its sessions (a restart) closes them here, one that refuses a
 * connection resets it here.
 *
 * What it cannot be: the kernel's TCP. The proxy's own sockets acknowledge every byte and answer TCP
 * keepalive probes, so only the app's query and connect timeouts can find a silent connection here, not
 * TCP keepalive (which on AWS finds an idle one); docs/gameday.md says so.
 */
import net from "node:net";

export class FaultProxy {
  private readonly connections = new Set<{ silent: boolean; client: net.Socket; upstream?: net.Socket }>();
  private silent = false;
  /** Connections made, and made while silent. */
  readonly counts = { connections: 0, silenced: 0 };

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(upstreamPort: number): Promise<FaultProxy> {
    // Connections arrive only once it listens, after the proxy below exists.
    const server = net.createServer((client) => proxy.accept(client, upstreamPort));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const proxy = new FaultProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  /** Every connection, open or new, goes silent. */
  blackhole(): void {
    this.silent = true;
    for (const c of this.connections) c.silent = true;
  }

  /** New connections reach the database again; those that went silent stay silent. */
  restore(): void {
    this.silent = false;
  }

  async stop(): Promise<void> {
    for (const c of this.connections) {
      c.client.destroy();
      c.upstream?.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket, upstreamPort: number): void {
    this.counts.connections++;
    const c: { silent: boolean; client: net.Socket; upstream?: net.Socket } = { silent: this.silent, client };
    this.connections.add(c);
    client.on("error", () => undefined);
    client.on("close", () => {
      c.upstream?.destroy();
      this.connections.delete(c);
    });
    if (c.silent) {
      // Accepted by the kernel, never answered: the app's connect timeout is all that ends it.
      this.counts.silenced++;
      return;
    }
    const upstream = net.connect(upstreamPort, "127.0.0.1");
    c.upstream = upstream;
    upstream.on("error", () => {
      // The database refused or dropped it: the app sees a reset, as it would see the database's own.
      if (!c.silent && !client.destroyed) client.resetAndDestroy();
    });
    client.on("data", (chunk) => {
      if (!c.silent) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!c.silent) client.write(chunk);
    });
    upstream.on("end", () => {
      if (!c.silent) client.end();
    });
    client.on("end", () => {
      if (!c.silent) upstream.end();
    });
  }
}
