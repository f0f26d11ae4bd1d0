/**
 * The names taskmill uses in its schema: the quoted schema, its LISTEN/NOTIFY channels and its
 * advisory lock keys. The schema name was checked to be a plain lower-case identifier
 * (`backend-options.ts`), so quoting it is all the escaping it needs.
 */

/** Every SQL name derived from one schema. */
export interface SchemaNames {
  /** The schema as written in SQL: `"taskmill"`. */
  readonly s: string;
  /** The schema's plain name. */
  readonly schema: string;
  /** NOTIFY channel: new or returned work (payload: the queue, or "" for any). */
  readonly workChannel: string;
  /** NOTIFY channel: new events in the feed. */
  readonly eventsChannel: string;
}

export function schemaNames(schema: string): SchemaNames {
  return {
    s: `"${schema}"`,
    schema,
    workChannel: `${schema}_work`,
    eventsChannel: `${schema}_events`,
  };
}

/** First key of taskmill's advisory locks (`pg_advisory_xact_lock(key, hashtext(schema))`). */
export const ADVISORY_MIGRATE = 0x74_6d_6d_31; // "tmm1"
