/**
 * What the Redis store's script wrappers need: the client, the key space and the resolved
 * options. `RedisStore` is one (structurally), so its facade methods pass `this`.
 */
import type { RedisClient } from "./client.js";
import type { KeySpace } from "./keys.js";
import type { ResolvedStoreOptions } from "./options.js";

/** The client, key space and options that every store script call is made with. */
export interface StoreContext {
  readonly redis: RedisClient;
  readonly keys: KeySpace;
  readonly options: ResolvedStoreOptions;
}
