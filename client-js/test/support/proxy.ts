import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A TCP proxy on 127.0.0.1 in front of a node, to break the network on purpose: cut every open
 * connection, refuse new ones, or refuse only WebSocket upgrades (as a proxy that does not carry
 * WebSockets would) while plain HTTP passes.
 */
export class FaultProxy {
  /** New connections are closed at once. */
  refuseAll = false;
  /** Connections whose first request is a WebSocket upgrade are closed at once. */
  refuseWebSockets = false;
  /** Connections accepted so far. */
  accepted = 0;
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();

  constructor(private readonly targetPort: number) {}

  async start(): Promise<string> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Destroys every open connection (both sides), like a network cut. */
  cut(): number {
    const n = this.pairs.size;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    return n;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    this.accepted++;
    if (this.refuseAll) {
      client.destroy();
      return;
    }
    client.once("data", (first: Buffer) => {
      const head = first.subarray(0, 2048).toString("latin1");
      if (this.refuseWebSockets && /^GET [^\r\n]* HTTP/.test(head) && /\r\nupgrade:\s*websocket/i.test(head)) {
        client.destroy();
        return;
      }
      const upstream = connect(this.targetPort, "127.0.0.1");
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      upstream.on("error", drop);
      client.on("error", drop);
      upstream.on("close", drop);
      client.on("close", drop);
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    client.on("error", () => client.destroy());
  }
}
