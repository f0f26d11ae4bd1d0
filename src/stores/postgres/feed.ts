/**
 * The events feed on Postgres. Positions are `<xid>-<id>`: the writing transaction's id and
 * the row's serial id, read in that order.
 *
 * Why not the serial id alone: ids are taken when a row is inserted, but rows become visible
 * when their transaction commits, and transactions commit in any order. A reader at id 12 that
 * saw 13 (committed) before 11 (still in flight) would move past 11 and never see it. So a
 * reader only reads rows of transactions older than every transaction still running
 * (`xid < pg_snapshot_xmin(pg_current_snapshot())`): those have all committed or rolled back,
 * and nothing can ever appear among them again. Rows of later transactions wait until the
 * older ones end; ordering by (xid, id) keeps every position read final.
 *
 * The cost: a long-running *writing* transaction anywhere in the database (one that holds an
 * xid) holds back the feed (results are delayed, never lost) until it ends. Readers that see
 * rows held back this way look again every few ms instead of waiting for a NOTIFY.
 */
import { InvalidArgumentError } from "../../errors.js";
import { requireInteger } from "../../validation.js";
import type { EventReader } from "../durable-store.js";
import type { TaskEvent } from "../durable-types.js";
import { EVENT_COLUMNS, eventFromRow } from "./codec.js";
import type { ChannelListener } from "./listener.js";
import type { Query } from "./queries.js";
import type { SchemaNames } from "./sql/names.js";

/** Positions: `<xid>-<id>`, or a bare number (`"0"`: from the oldest event kept). */
const POSITION = /^\d{1,19}(-\d{1,19})?$/;

/** Re-read spacing while events exist that older transactions hold back. */
const HELD_BACK_RETRY_MS = 5;

/** Longest a closing reader's last look may take before the connection is closed anyway. */
const FINAL_READ_MS = 1_000;

const XMIN = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

export function isFeedPosition(value: unknown): value is string {
  return typeof value === "string" && POSITION.test(value);
}

function parsePosition(after: string): [string, string] {
  if (!isFeedPosition(after))
    throw new InvalidArgumentError("after", 'must be a feed position ("<xid>-<id>" or "0")', after);
  const [xid, id] = after.split("-");
  return [xid as string, id ?? "0"];
}

/** Up to `count` events after `after`, of transactions that can no longer change. */
export async function readFeed(
  query: Query,
  { s }: SchemaNames,
  after: string,
  count: number,
): Promise<TaskEvent[]> {
  requireInteger("count", count, 1);
  const [xid, id] = parsePosition(after);
  const { rows } = await query(
    `SELECT ${EVENT_COLUMNS} FROM ${s}.events
     WHERE (xid, id) > ($1::bigint, $2::bigint) AND xid < ${XMIN}
     ORDER BY xid, id LIMIT $3`,
    [xid, id, count],
  );
  return rows.map(eventFromRow);
}

/** Whether events after `after` exist that running transactions still hold back. */
async function heldBack(query: Query, { s }: SchemaNames, after: string): Promise<boolean> {
  const [xid, id] = parsePosition(after);
  const { rows } = await query(
    `SELECT EXISTS (SELECT 1 FROM ${s}.events WHERE (xid, id) > ($1::bigint, $2::bigint)
       AND xid >= ${XMIN}) AS held`,
    [xid, id],
  );
  return rows[0]?.held === true;
}

/**
 * The blocking reader: reads on its own LISTENing connection and, when nothing is there,
 * waits for a NOTIFY on `<schema>_events` (sent by every write that appends an event).
 */
export class PostgresFeedReader implements EventReader {
  readonly #listener: ChannelListener;
  readonly #names: SchemaNames;
  /** The read in flight, if any: `close()` lets it finish with one last look. */
  #reading: AbortController | undefined;
  #closing = false;
  /** Until when a closing reader's last look may wait for held-back events. */
  #closeBy = 0;

  /** @param listener owned: closed by `close()` */
  constructor(listener: ChannelListener, names: SchemaNames) {
    this.#listener = listener;
    this.#names = names;
  }

  /**
   * A position every event to come is after: the oldest running transaction's id. Events of
   * transactions that committed after it started may be read once more than needed; none is
   * missed.
   */
  async end(): Promise<string> {
    const client = await this.#listener.client();
    const { rows } = await client.query(`SELECT ${XMIN} AS x`);
    return `${String(rows[0]?.x ?? 0)}-0`;
  }

  async read(after: string, count: number, blockMs: number): Promise<TaskEvent[]> {
    // In flight from here on, even while connecting: a close() meanwhile still gets its last
    // look (a result() asked just before a stop must not miss the event of its task).
    const reading = new AbortController();
    this.#reading = reading;
    try {
      const client = await this.#listener.listen();
      const query: Query = (text, values) => client.query(text, values);
      const deadline = Date.now() + blockMs;
      for (;;) {
        // Taken before the read: a NOTIFY arriving during it ends the wait below at once.
        this.#listener.take();
        const events = await readFeed(query, this.#names, after, count);
        const left = deadline - Date.now();
        if (events.length > 0) return events;
        if (this.#closing) {
          // The last look waits out transactions that hold committed events back (a lease
          // renewal in flight), within the close's bound.
          if (Date.now() >= this.#closeBy || !(await heldBack(query, this.#names, after)))
            return events;
          await new Promise((resolve) => setTimeout(resolve, HELD_BACK_RETRY_MS));
          continue;
        }
        if (left <= 0) return events;
        if (await heldBack(query, this.#names, after))
          await new Promise((resolve) => setTimeout(resolve, Math.min(left, HELD_BACK_RETRY_MS)));
        else if (!(await this.#listener.next(left, reading.signal)) && !this.#closing) return [];
      }
    } finally {
      this.#reading = undefined;
      if (this.#closing) this.#listener.close();
    }
  }

  /**
   * Closes the connection. A read in flight first takes one last look (a NOTIFY may still be
   * on its way for an event committed just before the stop: a result the process waits for),
   * bounded by {@link FINAL_READ_MS}; a second `close()` closes at once.
   */
  close(): void {
    const reading = this.#reading;
    if (this.#closing || reading === undefined) {
      this.#closing = true;
      this.#listener.close();
      return;
    }
    this.#closing = true;
    this.#closeBy = Date.now() + FINAL_READ_MS / 2;
    reading.abort();
    setTimeout(() => this.#listener.close(), FINAL_READ_MS).unref();
  }
}
