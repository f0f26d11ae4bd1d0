/**
 * `taskmill audit` and `taskmill audit verify` (the real binary) over a real admin server on a
 * real Redis: writes made through the CLI are listed, verify passes on an intact trail and
 * fails with exit code 4, naming the record, once a record is edited in Redis.
 */
import { randomUUID } from "node:crypto";
import { TaskManager } from "taskmill";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useRedis } from "../stores/redis/fixture.js";
import { assertBuilt, runCli, startServer, WRITE_TOKEN } from "./harness.js";

const redis = useRedis();
const prefix = `cli-audit-${randomUUID().slice(0, 8)}`;
let mill: TaskManager;
let server: { url: string; close(): Promise<void> };

beforeAll(async () => {
  assertBuilt();
  mill = new TaskManager({ backend: { type: "redis", url: redis.server().url, prefix } });
  server = await startServer(mill);
});

afterAll(async () => {
  await server?.close();
  await mill?.stopNow();
});

const cli = (args: readonly string[]) =>
  runCli(args, { TASKMILL_URL: server.url, TASKMILL_TOKEN: WRITE_TOKEN });

describe("taskmill audit", () => {
  it("lists the CLI's own writes, verifies an intact trail, and names an edited record", async () => {
    expect((await cli(["pause", "email"])).code).toBe(0);
    expect((await cli(["resume", "email"])).code).toBe(0);
    expect((await cli(["dlq", "replay", "--name", "email.send"])).code).toBe(0);

    const listed = await cli(["audit"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /3 .*ops \(write\).*POST \/v1\/dlq\/replay.*name=email\.send.*dry-run 200/,
    );
    expect(listed.stdout).toMatch(/1 .*POST \/v1\/queues\/:name\/pause.*email.*applied 200/);
    const json = JSON.parse((await cli(["audit", "--json", "--limit", "2"])).stdout);
    expect(json.records.map((r: { seq: number }) => r.seq)).toEqual([3, 2]);
    expect(json.next).toBe(2);

    const ok = await cli(["audit", "verify"]);
    expect(ok).toMatchObject({ code: 0, stderr: "" });
    expect(ok.stdout).toContain("ok: 3 records verified (records 1 to 3)");

    const client = redis.client();
    const key = `{${prefix}}:audit`;
    const [member] = await client.zrangebyscore(key, 2, 2);
    const edited = JSON.stringify({ ...JSON.parse(member as string), route: "/v1/healthz" });
    await client.zrem(key, member as string);
    await client.zadd(key, 2, edited);
    const broken = await cli(["audit", "verify"]);
    expect(broken.code).toBe(4);
    expect(broken.stdout).toContain("BROKEN: record 2 was altered");
    expect(broken.stderr).toContain("audit trail broken: record 2 was altered");
    const brokenJson = JSON.parse((await cli(["--json", "audit", "verify"])).stdout);
    expect(brokenJson).toMatchObject({ ok: false, seq: 2, problem: "altered" });
  });
});
