/**
 * Durable-mode metrics through the real OpenTelemetry SDK, against a real redis-server: the
 * gauges report the shared backlog and dead-letter queue read from Redis (the same in every
 * process), and outcomes count once, in the process that ran the task.
 */
import { randomUUID } from "node:crypto";
import { PermanentError, TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { collect, sdkMeterProvider, total, valueAt } from "../observability/workload.js";
import { useRedis } from "../stores/redis/fixture.js";

const redis = useRedis();
const stops: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function measured(prefix: string) {
  const { provider, reader } = sdkMeterProvider();
  const mill = new TaskManager({
    retry: { maxRetries: 0 },
    metrics: { meterProvider: provider },
    backend: { type: "redis", url: redis.server().url, prefix },
  });
  stops.push(
    () => mill.stopNow(),
    () => provider.shutdown(),
  );
  return { mill, reader };
}

describe("durable-mode metrics", () => {
  it("every process reports the backlog and DLQ held in Redis; outcomes count where they ran", async () => {
    const prefix = `metrics-${randomUUID().slice(0, 8)}`;
    const { mill: worker, reader: workerReader } = measured(prefix);
    const { mill: producer, reader: producerReader } = measured(prefix);
    worker.register("boom", async () => {
      throw new PermanentError("no");
    });
    worker.register("fine", async () => "ok");
    await expect((await producer.submit("boom", 1)).result()).rejects.toThrow("no");
    expect(await (await producer.submit("fine", 2)).result()).toBe("ok");
    // Nobody here has a handler for "later": it waits in Redis.
    for (let i = 0; i < 3; i++) await producer.submit("later", i, { queue: "backlog" });

    for (const reader of [workerReader, producerReader]) {
      const m = await collect(reader);
      expect(valueAt(m, "queue_depth", { queue: "backlog" })).toBe(3);
      expect(total(m, "dead_letter_queue_size")).toBe(1);
    }
    const worked = await collect(workerReader);
    expect(valueAt(worked, "tasks_completed_total", { queue: "default", task: "fine" })).toBe(1);
    expect(valueAt(worked, "tasks_failed_total", { queue: "default", task: "boom" })).toBe(1);
    // The producer ran nothing, so it counts no outcome.
    const produced = await collect(producerReader);
    expect(total(produced, "tasks_completed_total")).toBe(0);
    expect(total(produced, "tasks_failed_total")).toBe(0);
  });
});
