/**
 * The join of a resumed subscription (`subscribeResults({ after })`, behind SSE Last-Event-ID),
 * made deterministic: an in-memory events stream stands in for Redis, and the test decides when
 * the live feed delivers, so every interleaving at the join can be forced.
 */
import type { TaskResult } from "taskmill";
import { describe, expect, it } from "vitest";
import { ResultBroadcaster } from "../../src/results/broadcaster.js";
import type { ResultBackfill } from "../../src/results/subscription.js";

function result(seq: number): TaskResult {
  return {
    id: `t${seq}`,
    name: "echo",
    queue: "default",
    status: "succeeded",
    attempts: 1,
    createdAt: 0,
    finishedAt: 0,
    eventId: `1000-${seq}`,
  };
}

/** An append-only stream of results with positions, read like XREAD after a position. */
class MemoryStream implements ResultBackfill {
  readonly entries: TaskResult[] = [];
  readonly pages: number[] = [];
  /** Runs inside each read, after the stream was looked at: the "meanwhile" of a real read. */
  during: (() => void) | undefined;

  append(...seqs: number[]): TaskResult[] {
    const added = seqs.map(result);
    this.entries.push(...added);
    return added;
  }

  async read(after: string, count: number) {
    const seq = Number(after.split("-")[1]);
    const page = this.entries.filter((r) => Number(r.eventId?.split("-")[1]) > seq).slice(0, count);
    this.pages.push(page.length);
    const meanwhile = this.during;
    this.during = undefined;
    meanwhile?.();
    await Promise.resolve();
    return { results: page, last: page.at(-1)?.eventId };
  }
}

function setup(buffer: number) {
  const broadcaster = new ResultBroadcaster(
    () => {},
    () => {},
  );
  const stream = new MemoryStream();
  const subscribe = (after: string) => {
    const sub = broadcaster.subscribe({ buffer });
    sub.resume(after, stream);
    return sub;
  };
  return { broadcaster, stream, subscribe };
}

async function take(sub: AsyncIterator<TaskResult>, n: number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < n) {
    const next = await sub.next();
    if (next.done) break;
    ids.push(next.value.id);
  }
  return ids;
}

describe("resumed subscriptions", () => {
  it("replays what followed the position, then live results, none twice even when the feed lags", async () => {
    const { broadcaster, stream, subscribe } = setup(100);
    stream.append(1, 2, 3, 4, 5);
    const sub = subscribe("1000-2");
    // The live feed, behind the replay, delivers 5 (also replayed) and then 6.
    const [six] = stream.append(6);
    broadcaster.publish(result(5));
    broadcaster.publish(six as TaskResult);
    expect(await take(sub, 4)).toEqual(["t3", "t4", "t5", "t6"]);
    const [seven] = stream.append(7);
    broadcaster.publish(seven as TaskResult);
    expect(await take(sub, 1)).toEqual(["t7"]);
    expect(sub.buffered).toBe(0);
    sub.unsubscribe();
    expect(broadcaster.size).toBe(0);
  });

  it("reads pages no larger than its buffer, as the consumer takes them", async () => {
    const { stream, subscribe } = setup(2);
    stream.append(1, 2, 3, 4, 5);
    const sub = subscribe("1000-0");
    expect(await take(sub, 2)).toEqual(["t1", "t2"]);
    expect(stream.pages).toEqual([2]);
    expect(await take(sub, 3)).toEqual(["t3", "t4", "t5"]);
    expect(Math.max(...stream.pages)).toBeLessThanOrEqual(2);
  });

  it("loses nothing when live results pile up past its buffer during the replay", async () => {
    const { broadcaster, stream, subscribe } = setup(2);
    stream.append(1);
    const sub = subscribe("1000-1");
    // While the first read is out, four results land and the feed delivers them all: more than
    // the buffer can hold, so some held ones are discarded and must be read again.
    stream.during = () => {
      for (const added of stream.append(2, 3, 4, 5)) broadcaster.publish(added);
    };
    expect(await take(sub, 4)).toEqual(["t2", "t3", "t4", "t5"]);
    const [six] = stream.append(6);
    broadcaster.publish(six as TaskResult);
    expect(await take(sub, 1)).toEqual(["t6"]);
  });

  it("ends with the read's error when the stream cannot be read, leaving no subscription", async () => {
    const broadcaster = new ResultBroadcaster(
      () => {},
      () => {},
    );
    const sub = broadcaster.subscribe({});
    sub.resume("1000-0", {
      read: async () => {
        throw new Error("Redis is unavailable: connection is closed");
      },
    });
    await expect(sub.next()).rejects.toThrow("connection is closed");
    expect(broadcaster.size).toBe(0);
    expect((await sub.next()).done).toBe(true);
  });
});
