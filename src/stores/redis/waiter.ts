/**
 * Waiting for work without polling: a worker that found nothing to claim blocks on the marker
 * lists of its queues (BLPOP) on a dedicated connection. Enqueue, promotion, reclaim, replay
 * and a new earliest delayed task leave a token there; a worker that fills up with work left
 * over passes the token on. Tokens persist, so a token left between a worker's empty claim
 * and its BLPOP is not lost: the BLPOP returns at once.
 *
 * The caller bounds each wait by `ClaimResult.nextDueAt` (and `rateWaitMs`) so delayed tasks
 * are promoted when due, and by a safety cap, e.g.:
 *
 * ```ts
 * const r = await store.claim(queues, free);
 * if (r.tasks.length === 0) {
 *   const untilDue = r.nextDueAt === undefined ? 5_000 : r.nextDueAt - r.now;
 *   await waiter.wait(queues, Math.min(5_000, Math.max(1, untilDue, r.rateWaitMs)), signal);
 * }
 * ```
 */
import type { Redis } from "ioredis";
import { InvalidArgumentError } from "../../errors.js";
import { systemClock } from "../../scheduling/clock.js";
import { requirePositive } from "../../validation.js";
import { nodeServing, type RedisClient } from "./client.js";
import type { KeySpace } from "./keys.js";

/** Why a wait ended: a token arrived, the timeout passed, the signal fired, or `close()`. */
export type WaitOutcome = "woken" | "timeout" | "aborted" | "closed";

/** Spacing of CLIENT UNBLOCK retries while an aborted BLPOP may not have reached Redis yet. */
const UNBLOCK_RETRY_MS = 25;

/** Blocks on queue markers; one wait at a time. */
export class WorkWaiter {
  readonly #connection: RedisClient;
  readonly #control: RedisClient;
  readonly #keys: KeySpace;
  /** The blocking connection itself on a single node; on a cluster, found per wait. */
  readonly #node: Redis | undefined;
  #waiting = false;
  #closed = false;

  /**
   * @param connection owned: used only for blocking, closed by `close()`
   * @param control not owned: sends CLIENT UNBLOCK when a wait is aborted
   */
  constructor(connection: RedisClient, control: RedisClient, keys: KeySpace) {
    this.#connection = connection;
    // Connection trouble surfaces as a rejected wait; without a listener ioredis would also
    // print every reconnect error of this private connection.
    connection.on("error", () => {});
    this.#control = control;
    this.#keys = keys;
    this.#node = connection.isCluster ? undefined : (connection as Redis);
  }

  /**
   * Resolves when a marker token of one of `queues` arrives (`"woken"`: claim now), after
   * `timeoutMs` (`"timeout"`), when `signal` aborts (`"aborted"`), or on `close()`.
   */
  async wait(
    queues: readonly string[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WaitOutcome> {
    if (!Array.isArray(queues) || queues.length === 0)
      throw new InvalidArgumentError("queues", "must be a non-empty array of queue names", queues);
    requirePositive("timeoutMs", timeoutMs);
    if (this.#closed) return "closed";
    if (signal?.aborted) return "aborted";
    if (this.#waiting) throw new Error("WorkWaiter.wait() is already in progress");
    const markers = [...new Set(queues)].map((queue) => this.#keys.marker(queue));
    // On a cluster, CLIENT ID has no key to route by: both go to the slot's node directly.
    let node = this.#node;
    if (node === undefined) {
      this.#waiting = true;
      try {
        node = await this.#nodeOf(this.#connection, markers[0] as string);
      } catch (error) {
        if (this.#closed) return "closed";
        throw error;
      } finally {
        this.#waiting = false;
      }
      if (this.#closed) return "closed";
      if (signal?.aborted) return "aborted";
    }
    this.#waiting = true;
    // BLPOP takes seconds with decimals; 0 would mean "forever".
    const seconds = (Math.max(1, Math.ceil(timeoutMs)) / 1000).toFixed(3);
    // Sent back to back on the same connection: the id arrives before BLPOP blocks.
    const clientId = node.call("CLIENT", "ID");
    clientId.catch(() => {});
    const pop = node.blpop(...markers, seconds);
    let settled = false;
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      void this.#unblock(clientId, markers[0] as string, () => settled);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const reply = await pop;
      if (reply !== null) return "woken";
      return aborted ? "aborted" : "timeout";
    } catch (error) {
      if (this.#closed) return "closed";
      throw error;
    } finally {
      settled = true;
      this.#waiting = false;
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Ends any wait (it resolves `"closed"`) and closes the blocking connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#connection.disconnect();
  }

  /**
   * The cluster's connection to the master serving the markers' slot (the hash tag's), once
   * the cluster knows it: a first keyed command connects it and loads the slot map.
   */
  async #nodeOf(client: RedisClient, key: string): Promise<Redis> {
    let node = nodeServing(client, key);
    if (node === undefined) {
      await client.exists(key);
      node = nodeServing(client, key);
    }
    if (node === undefined) throw new Error(`no Redis Cluster node serves the slot of ${key}`);
    return node;
  }

  /**
   * CLIENT UNBLOCK until the BLPOP returns (the first may arrive before the BLPOP does).
   * `marker` is a key the BLPOP blocks on: on a cluster, its slot names the blocking node.
   */
  async #unblock(
    clientId: Promise<unknown>,
    marker: string,
    settled: () => boolean,
  ): Promise<void> {
    let id: unknown;
    try {
      id = await clientId;
    } catch {
      return;
    }
    for (let tries = 0; tries < 40 && !settled(); tries++) {
      try {
        // The id is the blocking node's: on a cluster, UNBLOCK must reach that same node, the
        // one serving the blocked markers' slot (not `keys.base`'s: a sharded waiter's keys
        // are the markers themselves, of any shard's tag).
        const control =
          this.#node === undefined ? nodeServing(this.#control, marker) : this.#control;
        if (control === undefined) return;
        await control.call("CLIENT", "UNBLOCK", String(id));
      } catch {
        return;
      }
      await new Promise<void>((resolve) => systemClock.setTimer(resolve, UNBLOCK_RETRY_MS, true));
    }
  }
}
