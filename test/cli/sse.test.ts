import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AdminClient } from "../../src/cli/client.js";
import { ApiError, UnreachableError } from "../../src/cli/errors.js";
import { followEvents, type SseEvent, SseParser } from "../../src/cli/sse.js";

describe("SseParser", () => {
  it("parses events split anywhere, with CRLF, CR or LF line ends", () => {
    const stream =
      ': ping\r\nid: 1\r\nevent: result\r\ndata: {"a":\r\ndata: 1}\r\n\r\nid: 2\rdata: x\r\rdata: y\n\n';
    for (const size of [1, 2, 3, 7, stream.length]) {
      const parser = new SseParser();
      const events: SseEvent[] = [];
      for (let i = 0; i < stream.length; i += size)
        events.push(...parser.push(stream.slice(i, i + size)));
      expect(events).toEqual([
        { id: "1", event: "result", data: '{"a":\n1}' },
        { id: "2", event: "message", data: "x" },
        { id: "2", event: "message", data: "y" },
      ]);
      expect(parser.lastEventId).toBe("2");
    }
  });

  it("commits an id only when its event completes, and forgets a half event on reset", () => {
    const parser = new SseParser();
    parser.push("id: 1\ndata: a\n\nid: 2\ndata: b\n");
    expect(parser.lastEventId).toBe("1");
    parser.reset();
    expect(parser.push("data: c\n\n")).toEqual([{ id: "1", event: "message", data: "c" }]);
  });

  it("keeps retry, ignores comments, unknown fields and events without data", () => {
    const parser = new SseParser();
    expect(parser.push("retry: 250\nretry: soon\nfoo: bar\n: comment\nevent: x\n\n")).toEqual([]);
    expect(parser.retryMs).toBe(250);
    expect(parser.push("data\n\n")).toEqual([{ id: "", event: "message", data: "" }]);
  });
});

/** A loopback URL nobody listens on: a port just freed (fetch refuses "bad ports" like 1). */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe("followEvents", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function serve(
    handler: (res: ServerResponse, lastEventId: string | undefined, n: number) => void,
  ) {
    let n = 0;
    const server = createServer((req, res) => {
      n++;
      handler(res, req.headers["last-event-id"] as string | undefined, n);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("reconnects after a dropped stream and resumes with Last-Event-ID", async () => {
    const seenIds: (string | undefined)[] = [];
    const url = await serve((res, lastEventId, n) => {
      seenIds.push(lastEventId);
      res.writeHead(200, { "content-type": "text/event-stream" });
      if (n === 1) {
        res.write(
          "retry: 10\n\nid: 7\nevent: result\ndata: first\n\nid: 8\nevent: result\ndata: half",
        );
        // Drop the connection mid-event, as a crashing proxy would.
        setTimeout(() => res.destroy(), 20);
      } else {
        res.write("id: 9\nevent: result\ndata: second\n\n");
      }
    });
    const client = new AdminClient({ url, timeoutMs: 2000 });
    const events: SseEvent[] = [];
    const reconnects: string[] = [];
    await followEvents({
      client,
      path: "v1/results",
      signal: new AbortController().signal,
      onReconnect: (info) => reconnects.push(info.lastEventId),
      onEvent: (event) => {
        events.push(event);
        return events.length === 2 ? "stop" : undefined;
      },
    });
    expect(events.map((e) => e.data)).toEqual(["first", "second"]);
    // Event 8 never completed: it is dropped and the resume point is 7, the last one delivered.
    expect(seenIds).toEqual([undefined, "7"]);
    expect(reconnects).toEqual(["7"]);
  });

  it("fails at once when the first connection is refused or unauthorized", async () => {
    const url = await serve((res) => {
      res.writeHead(401, { "content-type": "application/json", "x-request-id": "r-1" });
      res.end(
        JSON.stringify({ error: { code: "UNAUTHORIZED", message: "bad token", requestId: "r-1" } }),
      );
    });
    const client = new AdminClient({ url, token: "nope", timeoutMs: 2000 });
    const follow = followEvents({
      client,
      path: "v1/results",
      signal: new AbortController().signal,
      onEvent: () => undefined,
    });
    await expect(follow).rejects.toBeInstanceOf(ApiError);
    await expect(follow).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      requestId: "r-1",
      status: 401,
    });

    const unreachable = new AdminClient({ url: await closedPortUrl(), timeoutMs: 2000 });
    await expect(
      followEvents({
        client: unreachable,
        path: "v1/results",
        signal: new AbortController().signal,
        onEvent: () => undefined,
      }),
    ).rejects.toBeInstanceOf(UnreachableError);
  });

  it("ends quietly when its signal aborts", async () => {
    const url = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(": ping\n\n");
    });
    const stop = new AbortController();
    const follow = followEvents({
      client: new AdminClient({ url, timeoutMs: 2000 }),
      path: "v1/results",
      signal: stop.signal,
      onOpen: () => setTimeout(() => stop.abort(), 20),
      onEvent: () => undefined,
    });
    await expect(follow).resolves.toBeUndefined();
  });
});
