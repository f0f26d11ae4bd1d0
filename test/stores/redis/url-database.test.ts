/**
 * The database number in a Redis URL is honoured or refused, never silently replaced by 0
 * (ioredis carries on in database 0 when Redis refuses its SELECT).
 */
import { randomUUID } from "node:crypto";
import { InvalidOptionError, TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { useRedis } from "./fixture.js";

const redis = useRedis();
const managers: TaskManager[] = [];

afterEach(async () => {
  await Promise.all(managers.splice(0).map((mill) => mill.stopNow()));
});

function manager(url: string): TaskManager {
  const mill = new TaskManager({
    backend: { type: "redis", url, prefix: `db-${randomUUID().slice(0, 8)}`, callTimeoutMs: 3_000 },
  });
  managers.push(mill);
  return mill;
}

describe("the URL's database", () => {
  it("is the one the tasks are written to", async () => {
    const mill = manager(`${redis.server().url}/3`);
    await mill.submit("report", { n: 1 });
    const client = redis.client();
    await client.select(3);
    expect(await client.dbsize()).toBeGreaterThan(0);
    await client.select(0);
    expect(await client.dbsize()).toBe(0);
  });

  it("that this Redis does not have is refused with InvalidOptionError, not a timeout, and nothing is written", async () => {
    const mill = manager(`${redis.server().url}/99`);
    const started = Date.now();
    const error = await mill.submit("report", { n: 1 }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe("backend.url");
    expect((error as Error).message).toContain("database 99");
    // Refused by the server's answer, well before the 3 s call timeout.
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(await redis.client().dbsize()).toBe(0);
  });

  it("that is not a number is refused in the constructor", () => {
    expect(() => manager(`${redis.server().url}/reports`)).toThrow(InvalidOptionError);
  });
});
