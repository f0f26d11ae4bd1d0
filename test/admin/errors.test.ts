/**
 * Every error class of the admin API, each answered with the one envelope: what a client
 * branches on (status, `error.code`, `error.field`) and what an operator greps for (requestId).
 */
import { request } from "node:http";
import { createAdminHandler, createAdminServer, InvalidOptionError, TaskManager } from "taskmill";
import { describe, expect, it, vi } from "vitest";
import { ErrorEnvelopeSchema } from "../../src/admin/schemas.js";
import { call, onCleanup, READ_TOKEN, type Reply, start, TOKENS, WRITE_TOKEN } from "./support.js";

function expectError(reply: Reply, status: number, code: string, field?: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers["content-type"]).toBe("application/json; charset=utf-8");
  const envelope = ErrorEnvelopeSchema.parse(reply.json);
  expect(envelope.error.code).toBe(code);
  expect(envelope.error.requestId).toBe(reply.headers["x-request-id"]);
  if (field !== undefined) expect(envelope.error.field).toBe(field);
}

describe("401 and 403", () => {
  it("401 with WWW-Authenticate: Bearer without a token, with a wrong one or another scheme", async () => {
    const { call } = await start();
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: "Bearer not-the-token" },
      { authorization: `Basic ${Buffer.from(`x:${WRITE_TOKEN}`).toString("base64")}` },
      { authorization: `Bearer ${WRITE_TOKEN}x` },
    ];
    for (const headers of attempts) {
      const reply = await call("GET", "/v1/tasks", { token: null, headers });
      expectError(reply, 401, "UNAUTHORIZED");
      expect(reply.headers["www-authenticate"]).toMatch(/^Bearer/);
    }
  });

  it("403 for a read token on every write route; the read token still reads", async () => {
    const { call, mill } = await start();
    const task = await mill.submit("echo", 1, { delayMs: 60_000 });
    for (const [path, body] of [
      ["/v1/tasks", { name: "echo" }],
      [`/v1/tasks/${task.id}/cancel`, undefined],
      ["/v1/queues/default/pause", undefined],
      ["/v1/queues/default/resume", undefined],
      ["/v1/dlq/replay", { name: "echo" }],
      ["/v1/dlq/purge", { name: "echo" }],
    ] as const)
      expectError(await call("POST", path, { token: READ_TOKEN, body }), 403, "FORBIDDEN");
    expect((await mill.get(task.id))?.status).toBe("scheduled");
    expect((await call("GET", "/v1/tasks", { token: READ_TOKEN })).status).toBe(200);
  });

  it("an authenticate hook decides who calls; a hook that throws is a 500 reported to onError", async () => {
    const onError = vi.fn();
    const { call } = await start({
      auth: {
        authenticate: (req) => {
          if (req.headers["x-fail"] === "1") throw new Error("directory down");
          return req.headers["x-user"] === "alice" ? { role: "read", name: "alice" } : null;
        },
      },
      onError,
    });
    expect(
      (await call("GET", "/v1/tasks", { token: null, headers: { "x-user": "alice" } })).status,
    ).toBe(200);
    expectError(await call("GET", "/v1/tasks", { token: null }), 401, "UNAUTHORIZED");
    expectError(
      await call("POST", "/v1/tasks", {
        token: null,
        headers: { "x-user": "alice" },
        body: { name: "echo" },
      }),
      403,
      "FORBIDDEN",
    );
    const failed = await call("GET", "/v1/tasks", { token: null, headers: { "x-fail": "1" } });
    expectError(failed, 500, "INTERNAL");
    expect(failed.json.error.message).not.toContain("directory down");
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: "directory down" }), {
      requestId: failed.json.error.requestId,
      method: "GET",
      path: "/v1/tasks",
    });
  });
});

describe("400 naming the field", () => {
  it("names the offending body field", async () => {
    const { call } = await start();
    const cases: Array<[unknown, string]> = [
      [{}, "name"],
      [{ name: 42 }, "name"],
      [{ name: "echo", options: { priority: 1.5 } }, "options.priority"],
      [{ name: "echo", options: { delayMs: -1 } }, "options.delayMs"],
      [{ name: "echo", options: { runAt: "next tuesday" } }, "options.runAt"],
      [{ name: "echo", options: { timeoutMs: 0 } }, "options.timeoutMs"],
      [{ name: "echo", options: { priority: 1e300 } }, "options.priority"],
      [{ name: "echo", extra: true }, "extra"],
      [{ name: "echo", options: { signal: "x" } }, "options.signal"],
      [[1, 2], "body"],
      ["just a string", "body"],
    ];
    for (const [body, field] of cases)
      expectError(
        await call("POST", "/v1/tasks", { body: JSON.stringify(body) }),
        400,
        "BAD_REQUEST",
        field,
      );
    expectError(
      await call("POST", "/v1/dlq/replay", { body: { ids: ["a"], name: "b" } }),
      400,
      "BAD_REQUEST",
      "ids",
    );
    expectError(
      await call("POST", "/v1/dlq/purge", { body: { ids: [] } }),
      400,
      "BAD_REQUEST",
      "ids",
    );
    expectError(
      await call("POST", "/v1/dlq/replay", { body: { name: "x", dryRun: "yes" } }),
      400,
      "BAD_REQUEST",
      "dryRun",
    );
  });

  it("names the offending query parameter", async () => {
    const { call } = await start();
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["limit=1001", "limit"],
      ["limit=ten", "limit"],
      ["status=pending", "status"],
      ["status=queued,bogus", "status"],
      ["nope=1", "nope"],
      ["limit=1&limit=2", "limit"],
      ["cursor=not-a-cursor", "cursor"],
    ])
      expectError(await call("GET", `/v1/tasks?${query}`), 400, "BAD_REQUEST", field);
    expectError(await call("GET", "/v1/dlq?limit=-5"), 400, "BAD_REQUEST", "limit");
    expectError(await call("GET", "/v1/queues?x=1"), 400, "BAD_REQUEST", "x");
  });

  it("refuses invalid JSON and an unknown task name", async () => {
    const { call } = await start();
    expectError(
      await call("POST", "/v1/tasks", { body: '{"name": "echo",' }),
      400,
      "BAD_REQUEST",
      "body",
    );
    expectError(
      await call("POST", "/v1/tasks", { body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }),
      400,
      "BAD_REQUEST",
      "body",
    );
    expectError(
      await call("POST", "/v1/tasks", { body: { name: "no-such-handler" } }),
      400,
      "BAD_REQUEST",
      "name",
    );
    expectError(await call("GET", "/v1/tasks/%E0%A4%A"), 400, "BAD_REQUEST", "path");
  });
});

describe("404, 405, 409, 413, 415, 503", () => {
  it("404 for an unknown route, an unknown task and the cancel of an unknown task", async () => {
    const { call } = await start();
    expectError(await call("GET", "/v1/nothing-here"), 404, "NOT_FOUND");
    expectError(await call("GET", "/v1/tasks/unknown-id"), 404, "NOT_FOUND");
    expectError(await call("POST", "/v1/tasks/unknown-id/cancel"), 404, "NOT_FOUND");
  });

  it("405 with Allow for a method the path does not take", async () => {
    const { call } = await start();
    const reply = await call("DELETE", "/v1/tasks");
    expectError(reply, 405, "METHOD_NOT_ALLOWED");
    expect(reply.headers.allow).toBe("POST, GET");
    expect((await call("PUT", "/healthz")).headers.allow).toBe("GET");
  });

  it("409 when an idempotency key is reused with a different payload", async () => {
    const { call } = await start();
    const body = { name: "echo", payload: 1, options: { idempotencyKey: "once", delayMs: 60_000 } };
    expect((await call("POST", "/v1/tasks", { body })).status).toBe(201);
    expectError(
      await call("POST", "/v1/tasks", { body: { ...body, payload: 2 } }),
      409,
      "CONFLICT",
      "options.idempotencyKey",
    );
  });

  it("413 for a declared length over the limit, without reading it", async () => {
    const { call, mill } = await start({ bodyLimitBytes: 1024 });
    const big = JSON.stringify({ name: "echo", payload: "x".repeat(4096) });
    expectError(await call("POST", "/v1/tasks", { body: big }), 413, "PAYLOAD_TOO_LARGE");
    expect((await mill.list()).tasks).toEqual([]);
  });

  it("413 for a streamed (chunked) body as soon as it passes the limit, while the client still sends", async () => {
    const { server, mill } = await start({ bodyLimitBytes: 64 * 1024 });
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${server.url}/v1/tasks`, {
        method: "POST",
        agent: false,
        headers: { authorization: `Bearer ${WRITE_TOKEN}`, "content-type": "application/json" },
      });
      req.on("error", () => {}); // the server may cut the connection after answering
      let answered = false;
      req.on("response", (res) => {
        answered = true;
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        });
        res.on("error", reject);
      });
      // Keep sending (never ending the body) until the answer arrives.
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = () => {
        if (answered || req.destroyed) return;
        if (req.write(chunk)) setImmediate(pump);
        else req.once("drain", pump);
      };
      req.write('{"name":"echo","payload":"');
      pump();
    });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body).error.code).toBe("PAYLOAD_TOO_LARGE");
    expect((await mill.list()).tasks).toEqual([]);
  });

  it("415 for a body that is not application/json", async () => {
    const { call } = await start();
    const reply = await call("POST", "/v1/tasks", {
      body: "name=echo",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expectError(reply, 415, "UNSUPPORTED_MEDIA_TYPE");
    expectError(
      await call("POST", "/v1/tasks", {
        body: '{"name":"echo"}',
        headers: { "content-type": "text/plain" },
      }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    // Parameters on the media type are fine.
    expect(
      (
        await call("POST", "/v1/tasks", {
          body: '{"name":"echo"}',
          headers: { "content-type": "Application/JSON; charset=utf-8" },
        })
      ).status,
    ).toBe(201);
  });

  it("503 for a submit once the manager is stopping", async () => {
    const { call, mill } = await start();
    await mill.stopGraceful();
    const reply = await call("POST", "/v1/tasks", { body: { name: "echo" } });
    expectError(reply, 503, "UNAVAILABLE");
    expect(reply.headers["retry-after"]).toBe("1");
  });
});

describe("creating the handler and the server", () => {
  it("refuses to be created without auth", async () => {
    const mill = new TaskManager();
    onCleanup(() => mill.stopNow());
    expect(() => createAdminHandler(mill, {})).toThrow(InvalidOptionError);
    await expect(createAdminServer(mill, {})).rejects.toThrow(/Option "auth"/);
    expect(() => createAdminHandler(mill, { auth: { tokens: [] } })).toThrow(/auth.tokens/);
    expect(() =>
      createAdminHandler(mill, { auth: { tokens: [{ token: "t", role: "admin" as "read" }] } }),
    ).toThrow(/auth.tokens\[0\].role/);
    expect(() => createAdminHandler(mill, { auth: TOKENS, bodyLimitBytes: 0 })).toThrow(
      /bodyLimitBytes/,
    );
    expect(() =>
      createAdminHandler(mill, { auth: TOKENS, insecureNoAuth: "loopback-only" }),
    ).toThrow(/insecureNoAuth/);
  });

  it("warns (once per token, by code) about a short token and a plain-HTTP bind off loopback", async () => {
    const mill = new TaskManager();
    onCleanup(() => mill.stopNow());
    const warnings: Array<Error & { code?: string }> = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      createAdminHandler(mill, { auth: { tokens: [{ token: "abc", role: "write" }] } });
      createAdminHandler(mill, { auth: TOKENS });
      // TEST-NET-1 is on no interface here: the bind fails, after the warning, with no traffic.
      await expect(createAdminServer(mill, { auth: TOKENS, host: "192.0.2.1" })).rejects.toThrow();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    const codes = warnings.map((warning) => warning.code);
    expect(codes).toEqual(["TASKMILL_WEAK_ADMIN_TOKEN", "TASKMILL_ADMIN_PLAIN_HTTP"]);
    expect(warnings[0]?.message).toContain("3 characters");
    expect(warnings[0]?.message).not.toContain("abc");
  });

  it('insecureNoAuth: "loopback-only" serves loopback callers without a token and refuses a public host', async () => {
    const mill = new TaskManager();
    onCleanup(() => mill.stopNow());
    await expect(
      createAdminServer(mill, { insecureNoAuth: "loopback-only", host: "0.0.0.0" }),
    ).rejects.toThrow(/Option "host"/);
    const server = await createAdminServer(mill, { insecureNoAuth: "loopback-only" });
    onCleanup(() => server.close());
    mill.register("echo", async (p: unknown) => p);
    expect(
      (await call(server.url, "POST", "/v1/tasks", { token: null, body: { name: "echo" } })).status,
    ).toBe(201);
  });

  it('insecureNoAuth: "loopback-only" answers 403 to a caller that is not on loopback', async () => {
    const mill = new TaskManager();
    onCleanup(() => mill.stopNow());
    const handler = createAdminHandler(mill, { insecureNoAuth: "loopback-only" });
    // Only loopback traffic is possible here: a real server relays the request after setting
    // the address the socket would report for a remote caller.
    const { createServer } = await import("node:http");
    const relay = createServer((req, res) => {
      Object.defineProperty(req.socket, "remoteAddress", {
        value: "203.0.113.9",
        configurable: true,
      });
      handler(req, res);
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    onCleanup(() => new Promise((resolve) => relay.close(resolve)));
    const { port } = relay.address() as { port: number };
    expectError(
      await call(`http://127.0.0.1:${port}`, "GET", "/healthz", { token: null }),
      403,
      "FORBIDDEN",
    );
  });
});
