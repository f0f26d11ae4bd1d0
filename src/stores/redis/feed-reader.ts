/**
 * The Redis events feed behind the port's {@link EventReader}: blocking `XREAD`s on a
 * connection of its own (a blocked client cannot serve other commands).
 */

import type { EventReader } from "../durable-store.js";
import type { TaskEvent } from "../durable-types.js";
import type { RedisClient } from "./client.js";
import { readEvents } from "./events.js";

export class RedisFeedReader implements EventReader {
  readonly #connection: RedisClient;
  readonly #key: string;

  /** @param connection owned: closed by `close()` */
  constructor(connection: RedisClient, key: string) {
    this.#connection = connection;
    connection.on("error", () => {}); // surfaced as failed reads, retried by the reader
    this.#key = key;
  }

  async end(): Promise<string> {
    const last = (await this.#connection.call(
      "XREVRANGE",
      this.#key,
      "+",
      "-",
      "COUNT",
      1,
    )) as Array<[string, unknown]> | null;
    return last?.[0]?.[0] ?? "0";
  }

  read(after: string, count: number, blockMs: number): Promise<TaskEvent[]> {
    return readEvents(this.#connection, this.#key, after, { count, blockMs });
  }

  close(): void {
    this.#connection.disconnect();
  }
}
