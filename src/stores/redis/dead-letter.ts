/**
 * The dead-letter queue in Redis: tasks that failed for good (last attempt failed, or poison),
 * kept with their last error and attempts, oldest first, bounded by count and age (see the
 * `deadLetters` option). Replay re-opens a task under the same id; purge deletes it.
 */

import { InvalidArgumentError } from "../../errors.js";
import type {
  DeadLetterListOptions,
  DeadLetterOutcome,
  DeadLetterSelector,
  ReplayOptions,
} from "../../registry/dead-letters.js";
import type { StoredTaskPage } from "../durable-types.js";
import { checkDeadLetterFilter } from "../list-filter.js";
import type { RedisClient } from "./client.js";
import { UnexpectedReplyError } from "./errors.js";
import type { KeySpace } from "./keys.js";
import type { ResolvedStoreOptions } from "./options.js";
import { walkSources } from "./queries.js";
import { runScript } from "./scripts.js";

/** Ids per replay/purge script call, so one call stays short. */
const CHUNK = 500;

/** Dead letters of one prefix. */
export class RedisDeadLetters {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly options: ResolvedStoreOptions,
  ) {}

  /** Number of dead letters. */
  size(): Promise<number> {
    return this.redis.zcard(this.keys.dlq);
  }

  /** A page of dead letters (oldest failure first) with their last error and attempts. */
  async list(options: DeadLetterListOptions = {}): Promise<StoredTaskPage> {
    const { limit, name } = checkDeadLetterFilter(options);
    return walkSources(
      this.redis,
      this.keys,
      [{ id: "dlq", key: this.keys.dlq, ready: false }],
      options.cursor,
      limit,
      (task) => task.status === "failed" && (name === undefined || task.name === name),
      options.order === "newest",
    );
  }

  /**
   * Puts dead letters back into their ready queue under the same id (status queued; attempts
   * reset unless `resetAttempts: false`). With `dryRun`, only reports which ids would go.
   * Ids not in the dead-letter queue are left out of the outcome; ids that were selected but
   * left the queue before the script ran (another replay or purge) are reported as `skipped`.
   */
  async replay(
    selector: DeadLetterSelector,
    options: ReplayOptions = {},
  ): Promise<DeadLetterOutcome> {
    const dryRun = options.dryRun === true;
    const ids = await this.#select(selector);
    if (dryRun) return { ids, skipped: [], dryRun };
    const replayed: string[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const reply = await runScript(
        this.redis,
        "dlqReplay",
        [this.keys.dlq, this.keys.seq, this.keys.events, this.keys.base],
        [
          options.resetAttempts === false ? "0" : "1",
          this.options.eventsMaxLen,
          ...ids.slice(i, i + CHUNK),
        ],
      );
      replayed.push(...stringList("dlqReplay", reply));
    }
    return { ids: replayed, skipped: missing(ids, replayed), dryRun };
  }

  /**
   * Deletes dead letters for good (task record and idempotency key included): the ones a
   * selector names, or all of them when called without one. With `dryRun`, only reports;
   * `skipped` as for replay.
   */
  async purge(
    selector?: DeadLetterSelector,
    options: { readonly dryRun?: boolean } = {},
  ): Promise<DeadLetterOutcome> {
    const dryRun = options.dryRun === true;
    const ids =
      selector === undefined
        ? await this.redis.zrange(this.keys.dlq, 0, -1)
        : await this.#select(selector);
    if (dryRun) return { ids, skipped: [], dryRun };
    const purged: string[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const reply = await runScript(
        this.redis,
        "dlqPurge",
        [this.keys.dlq, this.keys.base],
        ids.slice(i, i + CHUNK),
      );
      purged.push(...stringList("dlqPurge", reply));
    }
    return { ids: purged, skipped: missing(ids, purged), dryRun };
  }

  /** The dead-letter ids a selector names, oldest first for `{ name }`, given order for ids. */
  async #select(selector: DeadLetterSelector): Promise<string[]> {
    if (typeof selector !== "object" || selector === null)
      throw new InvalidArgumentError("selector", "must be { ids } or { name }", selector);
    if ("ids" in selector) {
      const { ids } = selector;
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string"))
        throw new InvalidArgumentError("ids", "must be an array of task ids", ids);
      if (ids.length === 0) return [];
      const scores = await this.redis.zmscore(this.keys.dlq, ...ids);
      return ids.filter((_, i) => scores[i] !== null);
    }
    if (typeof selector.name !== "string")
      throw new InvalidArgumentError("selector", "must be { ids } or { name }", selector);
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.list({ name: selector.name, limit: 1_000, cursor });
      for (const task of page.tasks) ids.push(task.id);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return ids;
  }
}

function missing(selected: readonly string[], done: readonly string[]): string[] {
  const doneSet = new Set(done);
  return selected.filter((id) => !doneSet.has(id));
}

function stringList(script: string, reply: unknown): string[] {
  if (!Array.isArray(reply)) throw new UnexpectedReplyError(script, reply);
  return reply.map(String);
}
