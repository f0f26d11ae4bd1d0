/**
 * Helpers for the admin API tests: a real TaskManager behind a real server on 127.0.0.1, and a
 * small client over node:http (real sockets, raw status and headers, no retries).
 */
import {
  type ClientRequest,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from "node:http";
import {
  type AdminServer,
  type AdminServerOptions,
  createAdminServer,
  TaskManager,
  type TaskManagerOptions,
} from "taskmill";
import { afterEach } from "vitest";

export const WRITE_TOKEN = "write-token-0123456789abcdef";
export const READ_TOKEN = "read-token-0123456789abcdef";

export const TOKENS: AdminServerOptions["auth"] = {
  tokens: [
    { token: WRITE_TOKEN, role: "write", name: "ops" },
    { token: READ_TOKEN, role: "read", name: "viewer" },
  ],
};

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are inspected freely
  readonly json: any;
}

export interface Started {
  readonly mill: TaskManager;
  readonly server: AdminServer;
  call(method: string, path: string, init?: CallInit): Promise<Reply>;
}

export interface CallInit {
  /** `null` sends no Authorization header. @default WRITE_TOKEN */
  readonly token?: string | null;
  /** Serialized as JSON unless a string or Buffer. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Registers something to undo after the current test. */
export function onCleanup(cleanup: () => Promise<unknown>): void {
  cleanups.push(cleanup);
}

/** A memory-mode manager with an `echo` handler, and an admin server over it. */
export async function start(
  serverOptions: Partial<AdminServerOptions> = {},
  millOptions: TaskManagerOptions = {},
  given?: TaskManager,
): Promise<Started> {
  const mill = given ?? new TaskManager({ retry: { maxRetries: 0 }, ...millOptions });
  if (given === undefined) mill.register("echo", async (payload: unknown) => payload);
  const server = await createAdminServer(mill, { auth: TOKENS, ...serverOptions });
  onCleanup(() => mill.stopNow());
  onCleanup(() => server.close());
  return { mill, server, call: (method, path, init) => call(server.url, method, path, init) };
}

/** One request over a fresh connection; resolves with the whole answer. */
export function call(
  base: string,
  method: string,
  path: string,
  init: CallInit = {},
): Promise<Reply> {
  const url = new URL(path, base);
  const token = init.token === undefined ? WRITE_TOKEN : init.token;
  const headers: Record<string, string> = { ...init.headers };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: Buffer | undefined;
  if (init.body !== undefined) {
    payload = Buffer.isBuffer(init.body)
      ? init.body
      : Buffer.from(typeof init.body === "string" ? init.body : JSON.stringify(init.body));
    headers["content-type"] ??= "application/json";
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method, headers, agent: false, rejectUnauthorized: false } as never,
      (res) => readReply(res).then(resolve, reject),
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** The whole answer of a response: status, headers, text, and the text as JSON when it is. */
export function readReply(res: IncomingMessage): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
    });
    res.on("error", reject);
  });
}

/** One parsed server-sent event. */
export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON, inspected freely
  readonly data: any;
}

/** A live SSE connection: what it received so far, and how to leave. */
export interface SseClient {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly events: SseEvent[];
  /** Comment lines (`: ping`) received. */
  readonly comments: string[];
  /** Resolves when the server ended the stream. */
  readonly ended: Promise<void>;
  readonly response: IncomingMessage;
  /** Drops the connection, as a client that goes away. */
  disconnect(): void;
}

/** Opens `GET path` as an event stream; resolves once the response headers came. */
export function openSse(
  base: string,
  path = "/v1/results",
  init: { token?: string | null; lastEventId?: string } = {},
): Promise<SseClient> {
  const token = init.token === undefined ? READ_TOKEN : init.token;
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (init.lastEventId !== undefined) headers["last-event-id"] = init.lastEventId;
  return new Promise((resolve, reject) => {
    const req: ClientRequest = httpRequest(
      new URL(path, base),
      { headers, agent: false, rejectUnauthorized: false } as never,
      (res) => {
        const events: SseEvent[] = [];
        const comments: string[] = [];
        let buffer = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffer += chunk;
          for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let id: string | undefined;
            let event: string | undefined;
            const data: string[] = [];
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) comments.push(line.slice(1).trim());
              else if (line.startsWith("id: ")) id = line.slice(4);
              else if (line.startsWith("event: ")) event = line.slice(7);
              else if (line.startsWith("data: ")) data.push(line.slice(6));
            }
            if (data.length > 0) events.push({ id, event, data: JSON.parse(data.join("\n")) });
          }
        });
        const ended = new Promise<void>((done) => {
          res.on("end", done);
          res.on("close", done);
          res.on("error", () => done());
        });
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          events,
          comments,
          ended,
          response: res,
          disconnect: () => req.destroy(),
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}
