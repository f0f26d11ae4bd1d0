/**
 * A loopback TCP proxy for fault tests: clients connect to the proxy, which forwards every
 * byte to a target port on 127.0.0.1. `cutAll()` drops every client connection at once (both
 * sides destroyed, like a network blip or a restarted load balancer) while the proxy keeps
 * listening, so clients reconnect through it.
 *
 * @example
 * ```ts
 * const proxy = await startTcpProxy(redisServer.port);
 * const mill = new TaskManager({ backend: { type: "redis", url: proxy.url } });
 * proxy.cutAll(); // every connection through the proxy drops now
 * await proxy.cutOnReply("marker"); // the next reply holding "marker" never arrives: cut instead
 * await proxy.close();
 * ```
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

const HOST = "127.0.0.1";

/** A running proxy owned by this test process. */
export interface TcpProxy {
  /** The proxy's own port. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Client connections open now. */
  readonly connections: number;
  /** Connections accepted since the start. */
  readonly accepted: number;
  /** Connections dropped by `cutAll()` since the start. */
  readonly cut: number;
  /** Destroys every open connection (client and upstream sides); returns how many. */
  cutAll(): number;
  /**
   * Arms a one-shot trap: the first chunk Redis sends back that contains `marker` is dropped
   * and every connection is cut at that moment, so the command it answers ran in Redis but
   * its client never sees the reply. Resolves when the trap fired.
   */
  cutOnReply(marker: string): Promise<void>;
  /** Stops listening and destroys every connection. Idempotent. */
  close(): Promise<void>;
}

/** Starts a proxy on a free 127.0.0.1 port forwarding to `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let accepted = 0;
  let cut = 0;
  let closed = false;
  let trap: { readonly marker: Buffer; readonly fired: () => void } | undefined;

  const server: Server = createServer((client) => {
    accepted++;
    const upstream = createConnection({ host: HOST, port: targetPort });
    const pair = { client, upstream };
    pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // Either side ending or failing ends both: the client then sees a closed connection.
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (trap !== undefined && chunk.includes(trap.marker)) {
        const fired = trap.fired;
        trap = undefined;
        cutAll();
        fired();
        return;
      }
      if (!client.write(chunk)) {
        upstream.pause();
        client.once("drain", () => upstream.resume());
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: HOST, port: 0 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("proxy has no address");
  const port = address.port;

  return {
    port,
    url: `redis://${HOST}:${port}`,
    get connections() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    get cut() {
      return cut;
    },
    cutAll,
    cutOnReply(marker: string) {
      return new Promise<void>((resolve) => {
        trap = { marker: Buffer.from(marker), fired: resolve };
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  function cutAll(): number {
    const now = [...pairs];
    for (const { client, upstream } of now) {
      // resetAndDestroy sends RST where available: an abrupt drop, not a polite FIN.
      if (typeof client.resetAndDestroy === "function") client.resetAndDestroy();
      else client.destroy();
      upstream.destroy();
    }
    pairs.clear();
    cut += now.length;
    return now.length;
  }
}
