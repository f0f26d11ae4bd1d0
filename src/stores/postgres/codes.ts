/**
 * The store functions' return codes (the Redis scripts' codes, see `redis/errors.ts`) as
 * typed errors, and how a `TM001` raise of `enqueue_many` names the task it refused.
 */
import { scriptError } from "../redis/errors.js";
import { UnexpectedRowError } from "./codec.js";

/** A function's positive result, or the typed error its negative code stands for. */
export function positive(
  value: unknown,
  context: { readonly script: string; readonly id: string; readonly token: string },
): number {
  const n = Number(value);
  if (value === null || value === undefined || !Number.isFinite(n))
    throw new UnexpectedRowError(context.script, value);
  if (n < 0) throw scriptError(n, context);
  return n;
}

/** A fencing token as the database keeps it (digits), or undefined for one it never issued. */
export function tokenDigits(token: unknown): string | undefined {
  return typeof token === "string" && /^\d{1,18}$/.test(token) ? token : undefined;
}

/** The refusal `enqueue_many` raised (SQLSTATE TM001): its code, the task's index, the holder. */
export function enqueueRefusal(
  error: unknown,
): { readonly code: number; readonly index: number; readonly holder: string } | undefined {
  const { code, detail } = (error ?? {}) as { code?: unknown; detail?: unknown };
  if (code !== "TM001" || typeof detail !== "string") return undefined;
  const parsed = JSON.parse(detail) as [number, number, string];
  return { code: parsed[0], index: parsed[1] - 1, holder: parsed[2] };
}
