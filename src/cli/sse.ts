/**
 * Server-Sent Events over fetch and a stream reader (EventSource cannot send an Authorization
 * header). {@link followEvents} reconnects after a dropped connection and sends `Last-Event-ID`
 * so a durable server resumes where the stream broke.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { AdminClient } from "./client.js";
import { ApiError, UnreachableError } from "./errors.js";

/** One dispatched event. */
export interface SseEvent {
  /** The last event id seen on the stream when this event was dispatched ("" if none). */
  readonly id: string;
  /** The `event:` field, `message` when absent. */
  readonly event: string;
  readonly data: string;
}

/**
 * An incremental parser of the `text/event-stream` format (WHATWG HTML, "Server-sent events"):
 * feed it decoded text in any chunking and it returns the events completed so far.
 */
export class SseParser {
  /**
   * The id of the last dispatched event; sent back as `Last-Event-ID` on reconnection. An `id:`
   * line counts only once its event is complete, so a drop mid-event never skips that event.
   */
  lastEventId = "";
  /** The last valid `retry:` field, in ms. */
  retryMs: number | undefined;
  #buffer = "";
  #idBuffer = "";
  #data: string[] = [];
  #event = "";

  /** Parses `chunk` (text already decoded) and returns the events it completed. */
  push(chunk: string): SseEvent[] {
    this.#buffer += chunk;
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const cr = this.#buffer.indexOf("\r", start);
      const lf = this.#buffer.indexOf("\n", start);
      if (cr === -1 && lf === -1) break;
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        // A CR at the very end may be the first half of a CRLF split across chunks.
        if (cr === this.#buffer.length - 1) break;
        end = cr;
        next = this.#buffer[cr + 1] === "\n" ? cr + 2 : cr + 1;
      } else {
        end = lf;
        next = lf + 1;
      }
      const event = this.#line(this.#buffer.slice(start, end));
      if (event !== undefined) events.push(event);
      start = next;
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }

  /** Forgets a half-received event: after a dropped connection it will never complete. */
  reset(): void {
    this.#buffer = "";
    this.#idBuffer = this.lastEventId;
    this.#data = [];
    this.#event = "";
  }

  #line(line: string): SseEvent | undefined {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
    else if (field === "id" && !value.includes("\0")) this.#idBuffer = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const data = this.#data;
    const event = this.#event;
    this.#data = [];
    this.#event = "";
    this.lastEventId = this.#idBuffer;
    if (data.length === 0) return undefined;
    return { id: this.lastEventId, event: event || "message", data: data.join("\n") };
  }
}

/** Options of {@link followEvents}. */
export interface FollowOptions {
  readonly client: AdminClient;
  /** Path relative to the client's base URL, e.g. `v1/results`. */
  readonly path: string;
  /** Ends the stream; `followEvents` then resolves. */
  readonly signal: AbortSignal;
  /** Receives each event; return `"stop"` to end the stream. */
  readonly onEvent: (event: SseEvent) => "stop" | undefined;
  /** Told about each reconnection before its wait. */
  readonly onReconnect?: (info: { delayMs: number; lastEventId: string; reason: string }) => void;
  /** Told once per successful connection. */
  readonly onOpen?: () => void;
  /** First wait before reconnecting, unless the server sent `retry:`. @default 1000 */
  readonly initialRetryMs?: number;
  /** Cap of the doubling wait between failed reconnections. @default 30000 */
  readonly maxRetryMs?: number;
}

/**
 * Follows an SSE stream until `signal` aborts or `onEvent` says stop. The first connection
 * must succeed (its failure rejects: the server is unreachable or refuses). After that, a
 * dropped stream, an unreachable server or a 5xx (a restarting server) leads to a reconnection
 * with `Last-Event-ID`; other 4xx answers (token revoked) reject.
 */
export async function followEvents(options: FollowOptions): Promise<void> {
  const { client, path, signal } = options;
  const parser = new SseParser();
  const initialRetryMs = options.initialRetryMs ?? 1000;
  const maxRetryMs = options.maxRetryMs ?? 30_000;
  let connectedOnce = false;
  let failures = 0;
  while (!signal.aborted) {
    let reason: string;
    try {
      const headers: Record<string, string> =
        parser.lastEventId === "" ? {} : { "last-event-id": parser.lastEventId };
      const response = await client.openStream(path, { headers, signal });
      connectedOnce = true;
      failures = 0;
      options.onOpen?.();
      if (await readEvents(response, parser, options)) return;
      reason = "the server ended the stream";
    } catch (error) {
      if (signal.aborted) return;
      if (!connectedOnce || !isTransient(error)) throw error;
      reason = error instanceof Error ? error.message : String(error);
      failures++;
    }
    parser.reset();
    const base = parser.retryMs ?? initialRetryMs;
    const delayMs = Math.min(maxRetryMs, base * 2 ** Math.max(0, failures - 1));
    options.onReconnect?.({ delayMs, lastEventId: parser.lastEventId, reason });
    try {
      await sleep(delayMs, undefined, { signal });
    } catch {
      return;
    }
  }
}

/** Reads one connection's events. True when the caller asked to stop (or aborted). */
async function readEvents(
  response: Response,
  parser: SseParser,
  options: FollowOptions,
): Promise<boolean> {
  if (response.body === null) return false;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const cancel = () => void reader.cancel().catch(() => {});
  options.signal.addEventListener("abort", cancel, { once: true });
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (options.signal.aborted) return true;
        // A reset connection mid-stream is a drop like any other: reconnect.
        throw new UnreachableError(
          `stream interrupted: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      if (chunk.done) return options.signal.aborted;
      for (const event of parser.push(decoder.decode(chunk.value, { stream: true })))
        if (options.onEvent(event) === "stop") {
          cancel();
          return true;
        }
    }
  } finally {
    options.signal.removeEventListener("abort", cancel);
  }
}

function isTransient(error: unknown): boolean {
  if (error instanceof UnreachableError) return true;
  return error instanceof ApiError && error.status >= 500;
}
