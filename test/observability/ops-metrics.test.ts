/**
 * The metrics operators alert on besides the task counters: `worker_slots` (is any worker
 * alive), `lease_lost_total` (a real lost lease over a real Redis) and
 * `admin_request_duration_seconds` (by route template, never a raw id), in the Prometheus
 * exposition with the default `taskmill_` prefix.
 */
import { randomUUID } from "node:crypto";
import { Registry } from "prom-client";
import { createAdminServer, TaskManager } from "taskmill";
import { createPrometheusMetrics } from "taskmill/prometheus";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call } from "../admin/support.js";
import { useRedis } from "../stores/redis/fixture.js";

const redis = useRedis();
const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

function sample(text: string, name: string, labels = ""): number | undefined {
  for (const line of text.split("\n")) {
    const space = line.lastIndexOf(" ");
    if (line.slice(0, space) === `${name}${labels}`) return Number(line.slice(space + 1));
  }
  return undefined;
}

describe("operations metrics", () => {
  it("worker_slots: the concurrency while handlers are registered, 0 without or once stopping", async () => {
    const registry = new Registry();
    const mill = new TaskManager({
      concurrency: 3,
      metrics: createPrometheusMetrics({ registry }),
    });
    stops.push(() => mill.stopNow());
    expect(sample(await registry.metrics(), "taskmill_worker_slots")).toBe(0);
    mill.register("job", async () => 1);
    expect(sample(await registry.metrics(), "taskmill_worker_slots")).toBe(3);
    await mill.stopGraceful();
    expect(sample(await registry.metrics(), "taskmill_worker_slots")).toBe(0);
  });

  it("admin_request_duration_seconds: by route template and status, never the raw path", async () => {
    const registry = new Registry();
    const mill = new TaskManager({ metrics: createPrometheusMetrics({ registry }) });
    mill.register("echo", async (value: unknown) => value);
    const server = await createAdminServer(mill, { insecureNoAuth: "loopback-only" });
    stops.push(
      () => mill.stopNow(),
      () => server.close(),
    );
    const id = `task-${randomUUID()}`;
    await call(server.url, "GET", `/v1/tasks/${id}`);
    await call(server.url, "GET", `/v1/tasks/${id}-2`);
    await call(server.url, "POST", "/v1/queues/email/pause");
    await call(server.url, "GET", `/no/such/${id}`);
    const text = await registry.metrics();
    expect(text).not.toContain(id);
    const count = (labels: string) =>
      sample(text, "taskmill_admin_request_duration_seconds_count", labels);
    expect(count('{method="GET",route="/v1/tasks/:id",status="404"}')).toBe(2);
    expect(count('{method="POST",route="/v1/queues/:name/pause",status="200"}')).toBe(1);
    expect(count('{method="GET",route="_other",status="404"}')).toBe(1);
  });

  it("lease_lost_total: a running task whose lease another claim took counts once", async () => {
    const prefix = `ops-${randomUUID().slice(0, 8)}`;
    const registry = new Registry();
    const backend = { type: "redis" as const, url: redis.server().url, prefix, leaseMs: 1_000 };
    const worker = new TaskManager({
      backend,
      retry: { maxRetries: 0 },
      metrics: createPrometheusMetrics({ registry }),
    });
    stops.push(() => worker.stopNow());
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    worker.register("slow", (_payload, ctx) => {
      started();
      return new Promise((_resolve, reject) =>
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
      );
    });
    const task = await worker.submit("slow");
    await running;
    // Another claim holds the task now (a newer fencing token): the next renewal is refused.
    await redis.client().hset(`{${prefix}}:t:${task.id}`, "token", "999999999");
    await vi.waitFor(
      async () =>
        expect(
          sample(
            await registry.metrics(),
            "taskmill_lease_lost_total",
            '{queue="default",task="slow"}',
          ),
        ).toBe(1),
      { timeout: 15_000, interval: 100 },
    );
  });
});
