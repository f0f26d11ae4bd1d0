/**
 * Mounting the handler in an application's own server under a prefix, the way Express does it
 * (it strips the mount path from `req.url`): the API answers under the prefix and hands paths
 * that are not its own to `next`; the dashboard root asked for without its trailing slash is
 * redirected to the URL with it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createAdminHandler, createAdminServer, TaskManager } from "taskmill";
import * as adminEntry from "taskmill/admin";
import { expect, it, vi } from "vitest";
import { call, onCleanup, openSse, READ_TOKEN, TOKENS } from "./support.js";

it("works mounted under /admin in a plain node:http server, calling next for other paths", async () => {
  const mill = new TaskManager();
  mill.register("echo", async (payload: unknown) => payload);
  onCleanup(() => mill.stopNow());
  const admin = createAdminHandler(mill, { auth: TOKENS });
  const app = createServer((req: IncomingMessage, res: ServerResponse) => {
    const notOurs = () => {
      res.writeHead(418, { "content-type": "text/plain" });
      res.end("app fallback");
    };
    if (req.url === "/admin" || req.url?.startsWith("/admin/")) {
      req.url = req.url.slice("/admin".length) || "/";
      admin(req, res, notOurs);
    } else notOurs();
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  onCleanup(async () => {
    admin.close();
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  });
  const base = `http://127.0.0.1:${(app.address() as { port: number }).port}`;

  const submitted = await call(base, "POST", "/admin/v1/tasks", {
    body: { name: "echo", payload: 1 },
  });
  expect(submitted.status).toBe(201);
  const got = await call(base, "GET", `/admin/v1/tasks/${submitted.json.task.id}`, {
    token: READ_TOKEN,
  });
  expect(got.json.task.id).toBe(submitted.json.task.id);
  expect((await call(base, "GET", "/admin/healthz", { token: null })).json).toEqual({
    status: "ok",
  });

  // Not an admin path: the application's own middleware answers.
  const fallback = await call(base, "GET", "/admin/not-an-admin-route");
  expect(fallback.status).toBe(418);
  expect(fallback.text).toBe("app fallback");

  // SSE works through the mount, and close() ends it.
  const stream = await openSse(base, "/admin/v1/results");
  await vi.waitFor(() => expect(mill.stats().subscribers).toBe(1));
  await (await mill.submit("echo", "via mount")).result();
  await vi.waitFor(() => expect(stream.events.map((e) => e.data.value)).toEqual(["via mount"]));
  admin.close();
  await stream.ended;
  await vi.waitFor(() => expect(mill.stats().subscribers).toBe(0));
});

it("uses a body another middleware already parsed onto req.body (express.json()), and refuses a swallowed one", async () => {
  const mill = new TaskManager();
  mill.register("echo", async (payload: unknown) => payload);
  onCleanup(() => mill.stopNow());
  const admin = createAdminHandler(mill, { auth: TOKENS });
  // What express.json() does: read the whole body, parse it, leave it on req.body.
  const app = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.headers["x-keep-body"] === "1")
      Object.assign(req, { body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
    admin(req, res);
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  onCleanup(async () => {
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  });
  const base = `http://127.0.0.1:${(app.address() as { port: number }).port}`;
  const parsed = await call(base, "POST", "/v1/tasks", {
    body: { name: "echo", payload: "pre-parsed" },
    headers: { "x-keep-body": "1" },
  });
  expect(parsed.status).toBe(201);
  expect(parsed.json.task.name).toBe("echo");
  const swallowed = await call(base, "POST", "/v1/tasks", { body: { name: "echo" } });
  expect(swallowed.status).toBe(400);
  expect(swallowed.json.error.field).toBe("body");
});

/**
 * A node:http server that mounts `admin` under `/admin` the way Express does: `req.url` loses
 * the prefix (`/admin` becomes `/`), `req.originalUrl` keeps the whole original URL.
 */
async function expressLikeMount(admin: ReturnType<typeof createAdminHandler>): Promise<string> {
  const app = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? "/";
    const path = url.split("?")[0] ?? "";
    if (path === "/admin" || path.startsWith("/admin/")) {
      Object.assign(req, { originalUrl: url });
      const rest = url.slice("/admin".length);
      req.url = rest.startsWith("/") ? rest : `/${rest}`;
      admin(req, res);
    } else {
      res.writeHead(418);
      res.end();
    }
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  onCleanup(async () => {
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  });
  return `http://127.0.0.1:${(app.address() as { port: number }).port}`;
}

it("redirects the mounted dashboard root without its trailing slash (308, query kept)", async () => {
  const mill = new TaskManager();
  onCleanup(() => mill.stopNow());
  const admin = createAdminHandler(mill, { auth: TOKENS });
  const base = await expressLikeMount(admin);

  const bare = await call(base, "GET", "/admin", { token: null });
  expect(bare.status).toBe(308);
  expect(bare.headers.location).toBe("./admin/");
  // Followed the way a browser does, it lands on the root with the slash.
  expect(new URL(bare.headers.location ?? "", `${base}/admin`).href).toBe(`${base}/admin/`);
  const withQuery = await call(base, "GET", "/admin?tab=dlq&x=%2F", { token: null });
  expect(withQuery.status).toBe(308);
  expect(withQuery.headers.location).toBe("./admin/?tab=dlq&x=%2F");
  expect(new URL(withQuery.headers.location ?? "", `${base}/admin?tab=dlq&x=%2F`).href).toBe(
    `${base}/admin/?tab=dlq&x=%2F`,
  );

  // With the slash: the page, and the assets it names resolve under the prefix.
  const page = await call(base, "GET", "/admin/", { token: null });
  expect(page.status).toBe(200);
  expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
  const script = page.text.match(/<script type="module" src="([^"]+)"/)?.[1] ?? "";
  const scriptUrl = new URL(script, `${base}/admin/`);
  expect(scriptUrl.pathname).toBe("/admin/assets/app.js");
  const app = await call(base, "GET", scriptUrl.pathname, { token: null });
  expect(app.status).toBe(200);
  expect(app.headers["content-type"]).toBe("text/javascript; charset=utf-8");
  // Its imports are relative too: a view module resolves under the prefix.
  const nested = await call(base, "GET", "/admin/assets/views/tasks.js", { token: null });
  expect(nested.status).toBe(200);
  expect((await call(base, "GET", "/admin/?tab=dlq", { token: null })).status).toBe(200);
  const repeated = await call(base, "GET", "/admin?a=1&a=2", { token: null });
  expect(repeated.headers.location).toBe("./admin/?a=1&a=2");

  // Other paths are not redirected, and neither is a server of its own (no originalUrl).
  expect((await call(base, "GET", "/admin/healthz", { token: null })).status).toBe(200);
  const own = createServer(admin);
  await new Promise<void>((resolve) => own.listen(0, "127.0.0.1", resolve));
  onCleanup(async () => {
    own.closeAllConnections();
    await new Promise((resolve) => own.close(resolve));
  });
  const ownBase = `http://127.0.0.1:${(own.address() as { port: number }).port}`;
  expect((await call(ownBase, "GET", "/", { token: null })).status).toBe(200);
});

it("is the same API from the taskmill/admin entry point", () => {
  expect(adminEntry.createAdminHandler).toBe(createAdminHandler);
  expect(adminEntry.createAdminServer).toBe(createAdminServer);
});
