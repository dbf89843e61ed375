import net from "node:net";

/**
 * A TCP proxy between the app and its database that a test can cut and restore, to see the app
 * lose its database and get it back without stopping a server other tests use.
 */
export class CuttableProxy {
  private readonly sockets = new Set<net.Socket>();
  private cut = false;
  private silent = false;
  private readonly server: net.Server;

  private constructor(target: { host: string; port: number }) {
    this.server = net.createServer((client) => {
      if (this.cut) return void client.destroy();
      if (this.silent) {
        // A black hole takes the connection and never answers.
        this.sockets.add(client);
        client.on("close", () => this.sockets.delete(client));
        client.on("error", () => undefined);
        return;
      }
      const upstream = net.connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      // Byte by byte, so a black hole can swallow them: nothing forwarded, nothing closed.
      client.on("data", (chunk) => this.silent || upstream.write(chunk));
      upstream.on("data", (chunk) => this.silent || client.write(chunk));
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
  }

  static async start(target: { host: string; port: number }): Promise<CuttableProxy> {
    const proxy = new CuttableProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Drops every open connection and refuses new ones, as a database that went away. */
  sever(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /**
   * An RDS Multi-AZ failover as the app's sockets see it: connections stay open and nothing answers, no FIN,
   * no RST (the old primary is gone, its address silent); new connections are taken and never answered.
   */
  blackhole(): void {
    this.silent = true;
  }

  restore(): void {
    this.cut = false;
    this.silent = false;
  }

  async stop(): Promise<void> {
    this.sever();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
