import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminClient, parseBaseUrl } from "../../src/cli/client.js";
import { ApiError, UsageError } from "../../src/cli/errors.js";

const seen: { url: string; auth: string | undefined; body: string }[] = [];
let reply: (req: IncomingMessage, res: ServerResponse) => void = () => {};
let base: string;
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => {
    body += String(chunk);
  });
  req.on("end", () => {
    seen.push({ url: req.url ?? "", auth: req.headers.authorization, body });
    reply(req, res);
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("AdminClient", () => {
  it("keeps a mount prefix, encodes ids, sends the token and JSON bodies", async () => {
    reply = (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}");
    const client = new AdminClient({ url: `${base}/admin`, token: "t0k", timeoutMs: 2000 });
    await client.getTask("a/b c");
    await client.replayDeadLetters({ name: "x" }, { dryRun: true, resetAttempts: undefined });
    await client.listTasks({ status: "failed,retrying", limit: 5, cursor: undefined });
    expect(seen.slice(-3)).toEqual([
      { url: "/admin/v1/tasks/a%2Fb%20c", auth: "Bearer t0k", body: "" },
      { url: "/admin/v1/dlq/replay", auth: "Bearer t0k", body: '{"name":"x","dryRun":true}' },
      { url: "/admin/v1/tasks?status=failed%2Cretrying&limit=5", auth: "Bearer t0k", body: "" },
    ]);
  });

  it("turns an answer without the envelope (a proxy's 502) into an ApiError", async () => {
    reply = (_req, res) =>
      res
        .writeHead(502, { "content-type": "text/html", "x-request-id": "edge-1" })
        .end("<h1>Bad gateway</h1>");
    const client = new AdminClient({ url: base, timeoutMs: 2000 });
    await expect(client.stats()).rejects.toMatchObject({
      status: 502,
      code: "HTTP_502",
      message: "<h1>Bad gateway</h1>",
      requestId: "edge-1",
      exitCode: 1,
    });
  });

  it("reports a 2xx body that is not JSON", async () => {
    reply = (_req, res) => res.writeHead(200).end("ok");
    const error = await new AdminClient({ url: base, timeoutMs: 2000 }).queues().catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe("BAD_RESPONSE");
  });

  it("validates the base URL and the token before any request", () => {
    expect(parseBaseUrl("http://h:1/admin").href).toBe("http://h:1/admin/");
    expect(() => parseBaseUrl("localhost:8080")).toThrow(UsageError);
    expect(() => parseBaseUrl("http://h/?x=1")).toThrow(/query or fragment/);
    expect(() => new AdminClient({ url: base, token: "a b", timeoutMs: 1 })).toThrow(UsageError);
  });
});
