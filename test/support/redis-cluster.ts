/**
 * Starts a real Redis Cluster of three masters (no replicas) for integration tests: three
 * `redis-server --cluster-enabled yes` processes, each on a free loopback port in its own temp
 * dir (through `startRedisServer`, which starts, kills and stops them by pid), joined by
 * `redis-cli --cluster create` (Debian's redis-tools, a dependency of redis-server), and
 * waited on until every node reports `cluster_state:ok` and knows all 16384 slots.
 *
 * A node keeps its `nodes.conf` across `kill(i)` / `restart(i)`, so it comes back as the same
 * node with the same slots (its data is gone: no RDB, no AOF, as for the single-node harness).
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster();
 * const client = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
 * await cluster.kill(1); // SIGKILL by pid
 * await cluster.restart(1); // same port, same node id: the cluster is whole again
 * await cluster.dispose();
 * ```
 */
import { execFile } from "node:child_process";
import { Redis } from "ioredis";
import { type RedisServer, startRedisServer } from "./redis-server.js";

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** Masters to start. @default 3 */
  readonly masters?: number;
  /** How long to wait for `cluster_state:ok` on every node. @default 30_000 */
  readonly readyTimeoutMs?: number;
}

/** A running Redis Cluster owned by this test process. */
export interface RedisCluster {
  /** The nodes, in start order (`kill(i)` / `restart(i)` take these indexes). */
  readonly nodes: readonly RedisServer[];
  /** `redis://127.0.0.1:<port>` of every node: the seed list for `backend.url`. */
  readonly urls: readonly string[];
  /** SIGKILLs node `i` by its pid, like a crash. */
  kill(i: number): Promise<void>;
  /** Starts node `i` again (after `kill(i)`) or restarts it; resolves once the cluster is ok. */
  restart(i: number): Promise<void>;
  /** Resolves once every running node reports `cluster_state:ok`. */
  ready(): Promise<void>;
  /** Stops every node (by pid) and removes their directories. */
  dispose(): Promise<void>;
}

/**
 * A node fails over... nowhere (no replicas), so the timeout only bounds how long a dead node
 * takes to be noticed; short enough for fault tests, long enough for a loaded CI machine.
 */
const NODE_TIMEOUT_MS = 5_000;
const CLUSTER_ARGS = [
  "--cluster-enabled",
  "yes",
  "--cluster-config-file",
  "nodes.conf",
  "--cluster-node-timeout",
  String(NODE_TIMEOUT_MS),
];

/** Starts the masters, joins them into one cluster and waits until it serves every slot. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const count = options.masters ?? 3;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < count; i++) nodes.push(await startRedisServer({ extraArgs: CLUSTER_ARGS }));
    await run("redis-cli", [
      "--cluster",
      "create",
      ...nodes.map((node) => `${node.host}:${node.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    const cluster = new ManagedCluster(nodes, readyTimeoutMs);
    await cluster.ready();
    return cluster;
  } catch (error) {
    await Promise.all(nodes.map((node) => node.dispose()));
    throw error;
  }
}

class ManagedCluster implements RedisCluster {
  readonly urls: readonly string[];

  constructor(
    readonly nodes: readonly RedisServer[],
    private readonly readyTimeoutMs: number,
  ) {
    this.urls = nodes.map((node) => node.url);
  }

  async kill(i: number): Promise<void> {
    await this.#node(i).kill();
  }

  async restart(i: number): Promise<void> {
    const node = this.#node(i);
    if (node.pid === undefined) await node.start();
    else await node.restart();
    await this.ready();
  }

  async ready(): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    for (const node of this.nodes) {
      if (node.pid === undefined) continue;
      for (;;) {
        const info = await clusterInfo(node.port);
        if (info.includes("cluster_state:ok") && info.includes("cluster_slots_assigned:16384"))
          break;
        if (Date.now() > deadline)
          throw new Error(
            `the Redis Cluster did not report cluster_state:ok on port ${node.port} within ${this.readyTimeoutMs} ms:\n${info}`,
          );
        await delay(50);
      }
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.dispose()));
  }

  #node(i: number): RedisServer {
    const node = this.nodes[i];
    if (node === undefined)
      throw new RangeError(`no cluster node ${i} (0..${this.nodes.length - 1})`);
    return node;
  }
}

/** `CLUSTER INFO` of one node over a short-lived connection ("" when it does not answer). */
async function clusterInfo(port: number): Promise<string> {
  const redis = new Redis(port, "127.0.0.1", {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1_000,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return String(await redis.call("CLUSTER", "INFO"));
  } catch {
    return "";
  } finally {
    redis.disconnect();
  }
}

/** Runs a command to completion; rejects with its output when it fails. */
function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error)
        reject(
          new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stdout}\n${stderr}`),
        );
      else resolve(stdout);
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
