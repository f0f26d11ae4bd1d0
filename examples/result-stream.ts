/**
 * An HTTP service that accepts tasks and streams every result to its log.
 *
 *   POST /tasks   {"name": "thumbnail", "payload": {...}, "idempotencyKey": "..."}  -> 202 {"id"}
 *   GET  /tasks/:id                                                                  -> snapshot
 *
 * A result subscription (its own bounded buffer, `drop-oldest`) writes one JSON line per
 * finished task, independent of the submitters, who may or may not wait for `task.result()`.
 *
 * Run it: `npx tsx examples/result-stream.ts` (PORT from the environment, or a free port), or
 * `npx tsx examples/result-stream.ts --demo` to have it submit a few tasks to itself, wait for
 * their results, stop gracefully and exit.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import {
  HandlerNotFoundError,
  PermanentError,
  ShuttingDownError,
  TaskManager,
  TaskmillError,
} from "taskmill";

const MAX_BODY_BYTES = 64 * 1024;
const demo = process.argv.includes("--demo");

const mill = new TaskManager({ concurrency: 4, retry: { maxRetries: 2, baseDelayMs: 20 } });

mill.register("thumbnail", async (payload: { image: string; width?: number }, ctx) => {
  await sleep(20 + Math.floor(Math.random() * 30), undefined, { signal: ctx.signal });
  if (!payload.image.endsWith(".png")) throw new PermanentError(`not a png: ${payload.image}`);
  return { url: `${payload.image.replace(/\.png$/, "")}-${payload.width ?? 128}.png` };
});

// The result log: every subscriber sees every result; this one keeps the newest 1024 if it
// ever falls behind (drops are counted and reported as `dropped` events).
const results = mill.subscribeResults({ buffer: 1024, overflow: "drop-oldest" });
let logged = 0;
const logging = (async () => {
  for await (const result of results) {
    logged++;
    console.log(
      JSON.stringify({
        at: new Date(result.finishedAt).toISOString(),
        id: result.id,
        name: result.name,
        status: result.status,
        attempts: result.attempts,
        ms:
          result.startedAt === undefined
            ? undefined
            : Math.round(result.finishedAt - result.startedAt),
        value: result.value,
        error: result.error,
      }),
    );
  }
})();
mill.on("dropped", ({ subscription }) => console.warn(`result log ${subscription} dropped one`));

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (req.method === "POST" && url.pathname === "/tasks") {
    let body: { name?: unknown; payload?: unknown; idempotencyKey?: unknown };
    try {
      body = JSON.parse(await readBody(req));
    } catch (error) {
      return send(res, 400, { error: `invalid JSON body: ${(error as Error).message}` });
    }
    if (typeof body.name !== "string") return send(res, 400, { error: "name must be a string" });
    try {
      const task = await mill.submit(body.name, body.payload, {
        idempotencyKey: typeof body.idempotencyKey === "string" ? body.idempotencyKey : undefined,
      });
      return send(res, 202, { id: task.id });
    } catch (error) {
      if (error instanceof HandlerNotFoundError) return send(res, 404, errorBody(error));
      if (error instanceof ShuttingDownError) return send(res, 503, errorBody(error));
      if (error instanceof TaskmillError) return send(res, 400, errorBody(error));
      throw error;
    }
  }
  const match = /^\/tasks\/([^/]+)$/.exec(url.pathname);
  if (req.method === "GET" && match !== null) {
    const snapshot = await mill.get(decodeURIComponent(match[1] as string));
    return snapshot === undefined
      ? send(res, 404, { error: "unknown task" })
      : send(res, 200, snapshot);
  }
  send(res, 404, { error: "not found" });
}

function errorBody(error: TaskmillError): { error: string; code: string } {
  return { error: error.message, code: error.code };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function shutdown(): Promise<void> {
  // Stop taking requests first, then let the manager finish what it holds.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const report = await mill.stopGraceful({ timeoutMs: 10_000 });
  await closed;
  await logging; // the subscription ends once the manager stopped, after logging what it held
  console.log(
    `stopped: ${logged} results logged, ${report.cancelled.length} cancelled, escalated=${report.escalated}`,
  );
}

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  console.log(`listening on ${base}  (POST ${base}/tasks)`);
  if (demo)
    runDemo(base).catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
      void shutdown();
    });
});

process.once("SIGINT", () => void shutdown());
process.once("SIGTERM", () => void shutdown());

async function runDemo(base: string): Promise<void> {
  const bodies = [
    { name: "thumbnail", payload: { image: "cat.png", width: 64 } },
    { name: "thumbnail", payload: { image: "dog.png" } },
    { name: "thumbnail", payload: { image: "notes.txt" } },
    { name: "thumbnail", payload: { image: "cat.png", width: 64 }, idempotencyKey: "cat-64" },
    { name: "thumbnail", payload: { image: "cat.png", width: 64 }, idempotencyKey: "cat-64" },
    { name: "resize", payload: {} },
  ];
  const ids = new Set<string>();
  for (const body of bodies) {
    const response = await fetch(`${base}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { id?: string; error?: string };
    console.log(`POST /tasks ${body.name} -> ${response.status} ${answer.id ?? answer.error}`);
    if (answer.id !== undefined) ids.add(answer.id);
  }
  // Wait until every accepted task has finished (the idempotent pair is one task).
  for (;;) {
    const snapshots = await Promise.all([...ids].map((id) => mill.get(id)));
    if (snapshots.every((s) => s !== undefined && s.finishedAt !== undefined)) break;
    await sleep(10);
  }
  await shutdown();
}
