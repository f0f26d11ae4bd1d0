/**
 * Server-sent events: one writer per stream, with a heartbeat so proxies keep idle streams
 * open, backpressure (a slow client pauses its own reader, never the server) and cleanup on
 * every way a stream can end, so a disconnected client leaves no subscription behind.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ResultBufferOverflowError } from "../errors.js";
import type { TaskManager } from "../task-manager.js";
import type { TaskResult } from "../types.js";

/** The open streams of one handler, so `close()` can end them all. */
export class SseStreams {
  readonly #open = new Set<AbortController>();
  /** Memory mode's event ids: a sequence per handler (there is no stream to resume from). */
  #sequence = 0;

  get size(): number {
    return this.#open.size;
  }

  nextId(): string {
    this.#sequence++;
    return String(this.#sequence);
  }

  add(controller: AbortController): void {
    this.#open.add(controller);
  }

  delete(controller: AbortController): void {
    this.#open.delete(controller);
  }

  /** Ends every open stream. */
  closeAll(): void {
    for (const controller of [...this.#open]) controller.abort();
  }
}

export interface ResultStreamOptions {
  readonly mill: TaskManager;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly streams: SseStreams;
  readonly heartbeatMs: number;
  /** Results the client may fall behind by before its stream is ended. */
  readonly bufferSize: number;
  /** Durable mode: the events-stream position to resume after. */
  readonly after: string | undefined;
  /** Whether ids are the results' stream positions (durable) or a local sequence. */
  readonly durable: boolean;
}

/** Streams every result as `event: result` until the client leaves or the handler closes. */
export async function streamResults(options: ResultStreamOptions): Promise<void> {
  const { mill, res, streams } = options;
  const controller = new AbortController();
  const subscription = mill.subscribeResults({
    buffer: options.bufferSize,
    // A client that falls this far behind is better told (its stream ends and it reconnects,
    // resuming with Last-Event-ID in durable mode) than silently skipped.
    overflow: "error",
    signal: controller.signal,
    ...(options.after === undefined ? {} : { after: options.after }),
  });
  streams.add(controller);
  const onClose = () => controller.abort();
  res.once("close", onClose);
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    // nginx buffers responses by default, which would hold events back.
    "x-accel-buffering": "no",
  });
  // Sends the headers now: a client must not wait for the first result to know it is live.
  res.write(": connected\n\n");
  const heartbeat = setInterval(() => {
    if (res.writableNeedDrain) return;
    res.write(": ping\n\n");
  }, options.heartbeatMs);
  heartbeat.unref();
  try {
    for await (const result of subscription) {
      if (res.destroyed) break;
      const id =
        options.durable && result.eventId !== undefined ? result.eventId : streams.nextId();
      if (!res.write(frame(id, result))) await drained(res);
    }
  } catch (error) {
    if (!(error instanceof ResultBufferOverflowError)) throw error;
    if (!res.destroyed) res.write(": fell too far behind; reconnect\n\n");
  } finally {
    clearInterval(heartbeat);
    controller.abort();
    streams.delete(controller);
    res.off("close", onClose);
    if (!res.writableEnded) res.end();
  }
}

function frame(id: string, result: TaskResult): string {
  return `id: ${id}\nevent: result\ndata: ${JSON.stringify(result)}\n\n`;
}

/** Resolves when the client took what was written, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}
