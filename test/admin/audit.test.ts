/**
 * The audit trail through the admin API over a real Redis: every write route of the OpenAPI
 * document records exactly one record (enumerated from the document, so a new write route is
 * covered the day it is added), refused writes are recorded as refused, payloads never, and
 * editing, deleting or swapping any one record in Redis makes verify fail and name it.
 */
import { randomUUID } from "node:crypto";
import { type AuditRecord, TaskManager } from "taskmill";
import { describe, expect, it } from "vitest";
import { useRedis } from "../stores/redis/fixture.js";
import { READ_TOKEN, start } from "./support.js";

const redis = useRedis();

function durableMill(prefix: string, options: { maxRecords?: number } = {}): TaskManager {
  const mill = new TaskManager({
    retry: { maxRetries: 0 },
    backend: { type: "redis", url: redis.server().url, prefix, leaseMs: 2_000 },
    ...(options.maxRecords === undefined ? {} : { audit: { maxRecords: options.maxRecords } }),
  });
  mill.register("echo", async (payload: unknown) => payload);
  return mill;
}

async function allRecords(mill: TaskManager): Promise<AuditRecord[]> {
  return [...(await mill.audit.list({ after: 0, limit: 10_000 })).records];
}

/** A valid request for the write routes we know; `{}` for any other (it is recorded anyway). */
function bodyFor(path: string): unknown {
  if (path === "/v1/tasks") return { name: "echo", payload: { secret: "s3cr3t-payload" } };
  if (path === "/v1/dlq/replay") return { name: "echo", dryRun: true };
  if (path === "/v1/dlq/purge") return { ids: ["no-such-dead-letter"] };
  return {};
}

describe("audit trail over the admin API (Redis)", () => {
  it("every write route of the OpenAPI document records exactly one record; reads record none", async () => {
    const mill = durableMill(`aud-${randomUUID().slice(0, 8)}`);
    const { call } = await start({}, {}, mill);
    const document = (await call("GET", "/v1/openapi.json")).json;
    const held = await mill.submit("echo", "for the cancel route", { delayMs: 60_000 });
    const writes: Array<{ method: string; path: string }> = [];
    const reads: string[] = [];
    for (const [path, operations] of Object.entries(document.paths as Record<string, object>))
      for (const method of Object.keys(operations))
        if (method === "get") {
          if (!path.includes("{") && path !== "/v1/results") reads.push(path);
        } else writes.push({ method: method.toUpperCase(), path });
    expect(writes.length).toBeGreaterThanOrEqual(6);

    for (const { method, path } of writes) {
      const before = (await allRecords(mill)).length;
      const concrete = path.replace(/\{(\w+)\}/g, (_, name: string) =>
        name === "id" ? held.id : "default",
      );
      const requestId = `req-${randomUUID()}`;
      const reply = await call(method, concrete, {
        body: bodyFor(path),
        headers: { "x-request-id": requestId },
      });
      const records = await allRecords(mill);
      expect(records.length, `${method} ${path}`).toBe(before + 1);
      const record = records.at(-1) as AuditRecord;
      expect(record).toMatchObject({
        method,
        route: path.replace(/\{(\w+)\}/g, ":$1"),
        status: reply.status,
        requestId,
        actor: { name: "ops", role: "write" },
      });
      expect(record.client).toMatch(/127\.0\.0\.1/);
      if (reply.status < 300) expect(record.outcome).toMatch(/applied|dry-run/);
    }

    const count = (await allRecords(mill)).length;
    for (const path of reads) await call("GET", path);
    expect((await allRecords(mill)).length).toBe(count);

    const records = await allRecords(mill);
    const submit = records.find((r) => r.route === "/v1/tasks");
    expect(submit?.targets?.length).toBe(1);
    expect(submit?.filter).toEqual({ name: "echo" });
    expect(records.find((r) => r.route === "/v1/dlq/replay")).toMatchObject({
      dryRun: true,
      outcome: "dry-run",
      filter: { name: "echo" },
    });
    expect(records.find((r) => r.route === "/v1/tasks/:id/cancel")?.targets).toEqual([held.id]);
    expect(JSON.stringify(records)).not.toContain("s3cr3t-payload");
    expect(await mill.audit.verify()).toMatchObject({ ok: true, records: writes.length });
  });

  it("a read-only token's refused write, and one without a token, are recorded as refused", async () => {
    const shipped: AuditRecord[] = [];
    const mill = new TaskManager({
      backend: {
        type: "redis",
        url: redis.server().url,
        prefix: `aud-${randomUUID().slice(0, 8)}`,
      },
      hooks: { onAdmin: (record) => void shipped.push(record) },
    });
    const { call } = await start({}, {}, mill);
    expect((await call("POST", "/v1/queues/email/pause", { token: READ_TOKEN })).status).toBe(403);
    expect((await call("POST", "/v1/queues/email/pause", { token: null })).status).toBe(401);
    expect((await call("POST", "/v1/tasks/nope/cancel")).status).toBe(404);
    const records = await allRecords(mill);
    expect(records).toMatchObject([
      {
        route: "/v1/queues/:name/pause",
        actor: { name: "viewer", role: "read" },
        targets: ["email"],
        outcome: "refused",
        status: 403,
        error: "FORBIDDEN",
      },
      { route: "/v1/queues/:name/pause", outcome: "refused", status: 401, error: "UNAUTHORIZED" },
      { route: "/v1/tasks/:id/cancel", targets: ["nope"], outcome: "refused", status: 404 },
    ]);
    expect(records[1]).not.toHaveProperty("actor");
    expect(shipped).toEqual(records);
    // The refused pause changed nothing.
    expect((await mill.queues()).find((q) => q.name === "email")?.paused ?? false).toBe(false);
    const page = (await call("GET", "/v1/audit?limit=2", { token: READ_TOKEN })).json;
    expect(page.records.map((r: AuditRecord) => r.seq)).toEqual([3, 2]);
    expect(page.next).toBe(2);
    const rest = (await call("GET", `/v1/audit?before=${page.next}`, { token: READ_TOKEN })).json;
    expect(rest.records.map((r: AuditRecord) => r.seq)).toEqual([1]);
    expect((await call("GET", "/v1/audit/verify", { token: READ_TOKEN })).json).toMatchObject({
      ok: true,
      records: 3,
    });
  });

  describe("tampering in Redis is found and named", () => {
    const N = 5;

    async function trail(maxRecords?: number) {
      const prefix = `aud-${randomUUID().slice(0, 8)}`;
      const mill = durableMill(prefix, maxRecords === undefined ? {} : { maxRecords });
      const { call } = await start({}, {}, mill);
      for (let n = 0; n < N + 2; n++) await call("POST", `/v1/queues/q${n}/pause`);
      const client = redis.client();
      const key = `{${prefix}}:audit`;
      const raw = async () => {
        const flat = await client.zrange(key, 0, -1, "WITHSCORES");
        const out: Array<{ member: string; score: number }> = [];
        for (let i = 0; i < flat.length; i += 2)
          out.push({ member: flat[i] as string, score: Number(flat[i + 1]) });
        return out;
      };
      const original = await raw();
      const restore = async () => {
        await client.del(key);
        for (const { member, score } of original) await client.zadd(key, score, member);
        expect((await mill.audit.verify()).ok).toBe(true);
      };
      return { mill, client, key, original, restore };
    }

    it("editing any one record: verify fails with `altered` and its seq", async () => {
      // With a bound, so the oldest kept record chains to the anchor, not to the genesis.
      const { mill, client, key, original, restore } = await trail(N);
      expect(original.map((r) => r.score)).toEqual([3, 4, 5, 6, 7]);
      for (const { member, score } of original) {
        const edited = JSON.stringify({ ...JSON.parse(member), client: "10.6.6.6" });
        await client.zrem(key, member);
        await client.zadd(key, score, edited);
        expect(await mill.audit.verify()).toMatchObject({
          ok: false,
          problem: "altered",
          seq: score,
        });
        await restore();
      }
    });

    it("editing one record and recomputing its hash still names it (the next no longer chains)", async () => {
      const { mill, client, key, original, restore } = await trail();
      const { auditHash } = await import("taskmill");
      for (const { member, score } of original.slice(0, -1)) {
        const forged = { ...JSON.parse(member), outcome: "refused" };
        forged.hash = auditHash(forged);
        await client.zrem(key, member);
        await client.zadd(key, score, JSON.stringify(forged));
        expect(await mill.audit.verify()).toMatchObject({
          ok: false,
          problem: "altered",
          seq: score,
        });
        await restore();
      }
    });

    it("deleting any one record: verify fails with `removed` and its seq", async () => {
      const { mill, client, key, original, restore } = await trail(N);
      for (const { member, score } of original) {
        await client.zrem(key, member);
        expect(await mill.audit.verify()).toMatchObject({
          ok: false,
          problem: "removed",
          seq: score,
        });
        await restore();
      }
    });

    it("swapping any two neighbours: verify fails with `reordered` and names one of them", async () => {
      const { mill, client, key, original, restore } = await trail(N);
      for (let i = 0; i + 1 < original.length; i++) {
        const a = original[i] as { member: string; score: number };
        const b = original[i + 1] as { member: string; score: number };
        await client.zadd(key, b.score, a.member, a.score, b.member);
        expect(await mill.audit.verify()).toMatchObject({
          ok: false,
          problem: "reordered",
          seq: b.score,
        });
        await restore();
      }
    });
  });
});
