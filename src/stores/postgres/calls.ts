/**
 * The two hot calls of the Postgres store, shared by its pool and the caller's transactions:
 * storing tasks (`enqueue_many`) and a worker's step (`step`: acks + claim). Inputs are
 * validated (by the Redis store's shared rules) before anything is sent.
 */
import { InvalidArgumentError, StaleLeaseError } from "../../errors.js";
import type { TransactionClient } from "../../types.js";
import type {
  AckRef,
  EnqueueInput,
  EnqueueResult,
  StepOptions,
  StepResult,
  StoredTask,
} from "../durable-types.js";
import { encodeJson } from "../json-codec.js";
import { encodeTask } from "../redis/enqueue.js";
import { scriptError } from "../redis/errors.js";
import { claimedFromEntry, UnexpectedRowError } from "./codec.js";
import { enqueueRefusal, tokenDigits } from "./codes.js";
import type { PostgresStoreSettings } from "./options.js";
import type { Query } from "./queries.js";
import type { SchemaNames } from "./sql/names.js";

/** A validated task, encoded. */
export type EncodedTask = ReturnType<typeof encodeTask>;

/**
 * Stores `tasks` in one `enqueue_many` call, all or none; a refused key or id (SQLSTATE TM001)
 * becomes the typed error `enqueue` would have thrown for that task.
 */
export async function enqueueTasks(
  query: Query,
  names: SchemaNames,
  tasks: ReturnType<typeof encodeTask>[],
  script: string,
): Promise<EnqueueResult[]> {
  if (tasks.length === 0) return [];
  // The first 15 arguments (the claim spec, the 16th, is Redis's packing).
  const rows = tasks.map((task) => task.args.slice(0, 15));
  try {
    const reply = await query(
      `SELECT ${names.s}.enqueue_many($1::jsonb) AS r`,
      [JSON.stringify(rows)],
      `${names.schema}_enqueue`,
    );
    const results = reply.rows[0]?.r;
    if (!Array.isArray(results) || results.length !== tasks.length)
      throw new UnexpectedRowError(script, results);
    return results.map((entry: unknown) => {
      const [code, id, status] = entry as [number, string, StoredTask["status"]];
      return { id, created: code === 1, status };
    });
  } catch (error) {
    const refusal = enqueueRefusal(error);
    const task = refusal === undefined ? undefined : tasks[refusal.index];
    if (refusal === undefined || task === undefined) throw error;
    throw scriptError(refusal.code, {
      script,
      id: task.id,
      holderId: refusal.holder,
      ...(task.idempotencyKey === undefined ? {} : { idempotencyKey: task.idempotencyKey }),
    });
  }
}

/**
 * A worker's step in one `step` call: the acks (each fenced by its token; a value that is not
 * JSON or a token the store never issued is answered without a round trip), then a claim of up
 * to `max` tasks of `queues`.
 */
export async function runStep(
  query: Query,
  names: SchemaNames,
  settings: PostgresStoreSettings,
  acks: readonly AckRef[],
  queues: readonly string[],
  max: number,
  options: StepOptions,
): Promise<StepResult> {
  const results: Array<number | Error> = new Array(acks.length);
  const sent: Array<{
    index: number;
    id: string;
    token: string;
    digits: string;
    value: string | null;
  }> = [];
  acks.forEach((ack, i) => {
    try {
      const value = encodeJson("value", ack.value);
      const digits = tokenDigits(ack.token);
      if (digits === undefined)
        results[i] = new StaleLeaseError(ack.id, String(ack.token), "superseded");
      else
        sent.push({
          index: i,
          id: ack.id,
          token: ack.token,
          digits,
          value: value === "" ? null : value,
        });
    } catch (error) {
      results[i] = error as Error;
    }
  });
  const { maxDeliveries, promoteBatch, globalRate, leaseMs } = settings;
  const requestId = options.requestId ?? "";
  const { rows } = await query(
    // Paused queues are left out in this same statement (its snapshot): a step that starts
    // after a pause committed takes nothing from the queue.
    `SELECT ${names.s}.step($1, $2, $3, ARRAY(SELECT q FROM unnest($4::text[]) AS q
       WHERE NOT EXISTS (SELECT 1 FROM ${names.s}.paused p WHERE p.queue = q)),
       $5, $6, $7, $8, $9, $10, $11, $12) AS r`,
    [
      sent.map((ack) => ack.id),
      sent.map((ack) => ack.digits),
      sent.map((ack) => ack.value),
      [...new Set(queues)],
      max,
      leaseMs,
      maxDeliveries,
      promoteBatch,
      globalRate?.perSecond ?? 0,
      globalRate?.burst ?? 0,
      requestId,
      requestId === "" ? [] : [...(options.unanswered ?? [])],
    ],
    `${names.schema}_step`,
  );
  const r = rows[0]?.r as
    | {
        now: number;
        nextDue?: number | null;
        rateWaitMs: number;
        poisoned: number;
        expired: number;
        tasks: unknown[];
        acks: number[];
      }
    | undefined;
  if (r === undefined || !Array.isArray(r.tasks) || r.acks.length !== sent.length)
    throw new UnexpectedRowError("step", r);
  sent.forEach((ack, j) => {
    const code = r.acks[j] as number;
    results[ack.index] =
      code > 0 ? code : scriptError(code, { script: "ack", id: ack.id, token: ack.token });
  });
  return {
    tasks: r.tasks.map(claimedFromEntry),
    now: r.now,
    nextDueAt: r.nextDue ?? undefined,
    rateWaitMs: r.rateWaitMs,
    poisoned: r.poisoned,
    expired: r.expired,
    acks: results,
  };
}

/** Every input validated before anything is sent (named `inputs[i].<argument>`). */
export function encodeAll(inputs: readonly EnqueueInput[]): ReturnType<typeof encodeTask>[] {
  if (!Array.isArray(inputs))
    throw new InvalidArgumentError("inputs", "must be an array of tasks", inputs);
  return inputs.map((input, i) => encodeTask(input, `inputs[${i}].`));
}

/** The caller's transaction client as the store's query function. */
export function asQuery(tx: TransactionClient): Query {
  return (text, values) =>
    tx.query(text, values) as Promise<{ rows: Array<Record<string, unknown>> }>;
}
