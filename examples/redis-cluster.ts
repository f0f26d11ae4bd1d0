/**
 * Durable mode on a Redis Cluster: the seed nodes as `backend.url` (any nodes of the cluster;
 * the client learns the slot map from them). Every key of the prefix lives in the slot of its
 * hash tag `{taskmill-example}`, on one master. Run it with
 *   REDIS_CLUSTER_URLS=redis://127.0.0.1:7000,redis://127.0.0.1:7001 npx tsx examples/redis-cluster.ts
 * (after `npm run build`). A cluster of three local masters, for trying it out:
 *   for p in 7000 7001 7002; do mkdir -p /tmp/c$p && (cd /tmp/c$p && redis-server --port $p \
 *     --cluster-enabled yes --cluster-config-file nodes.conf --save "" --daemonize yes); done
 *   redis-cli --cluster create 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002 --cluster-replicas 0 --cluster-yes
 * Passing your own `new Cluster([...])` (ioredis) as `backend.connection` works the same way.
 */
import { TaskManager } from "taskmill";

const seeds = (process.env.REDIS_CLUSTER_URLS ?? "redis://127.0.0.1:7000").split(",");
const mill = new TaskManager({
  concurrency: 4,
  backend: { type: "redis", url: seeds, prefix: "taskmill-example" },
});

mill.register("invoice.render", async (payload: { invoice: string }) => ({
  invoice: payload.invoice,
  pages: 2,
}));

const tasks = await mill.submitMany(
  ["INV-1", "INV-2", "INV-3"].map((invoice) => ({
    name: "invoice.render",
    payload: { invoice },
    options: { idempotencyKey: `render:${invoice}` },
  })),
);
for (const task of tasks) console.log(task.id, await task.result());
console.log(mill.health(), await mill.queues());
console.log(await mill.stopGraceful({ timeoutMs: 5_000 }));
