/**
 * The key layout version (`{prefix}:layout`): written on first use, and data of one layout
 * opened with the other is refused at connect with `IncompatibleStoreError`, both ways, before
 * anything is written; data written before the key existed counts as the single layout.
 */
import { randomUUID } from "node:crypto";
import { IncompatibleStoreError, TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { useRedis } from "../fixture.js";

const redis = useRedis();
const managers: TaskManager[] = [];

afterEach(async () => {
  await Promise.all(managers.splice(0).map((mill) => mill.stopNow()));
});

function manager(prefix: string, layout: "single" | "sharded"): TaskManager {
  const mill = new TaskManager({
    backend: { type: "redis", url: redis.server().url, prefix, layout, callTimeoutMs: 3_000 },
  });
  managers.push(mill);
  return mill;
}

async function refusal(mill: TaskManager): Promise<unknown> {
  return mill.submit("job", 1).then(
    () => undefined,
    (reason: unknown) => reason,
  );
}

describe("Redis key layout version", () => {
  for (const [first, second, version] of [
    ["single", "sharded", "1"],
    ["sharded", "single", "2"],
  ] as const) {
    it(`refuses "${second}" on data of the "${first}" layout, writing nothing`, async () => {
      const prefix = `lay-${randomUUID().slice(0, 8)}`;
      const mill = manager(prefix, first);
      const task = await mill.submit("job", 1);
      expect(await redis.client().get(`{${prefix}}:layout`)).toBe(version);
      const before = (await redis.client().keys(`{${prefix}*`)).sort();
      const error = await refusal(manager(prefix, second));
      expect(error).toBeInstanceOf(IncompatibleStoreError);
      expect((error as IncompatibleStoreError).reason).toBe("other-layout");
      expect((error as Error).message).toContain(`"${first}" layout`);
      expect((error as Error).message).toContain(`layout "${second}"`);
      expect((await redis.client().keys(`{${prefix}*`)).sort()).toEqual(before);
      // The first layout keeps working.
      expect((await mill.get(task.id))?.status).toBe("queued");
    });
  }

  it("takes single-tag data written before the version key as the single layout", async () => {
    const prefix = `lay-${randomUUID().slice(0, 8)}`;
    await redis.client().set(`{${prefix}}:seq`, "41");
    const error = await refusal(manager(prefix, "sharded"));
    expect(error).toBeInstanceOf(IncompatibleStoreError);
    expect(await redis.client().get(`{${prefix}}:layout`)).toBe("1");
    await manager(prefix, "single").submit("job", 1);
  });
});
