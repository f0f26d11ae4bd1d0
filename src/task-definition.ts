/**
 * Typed tasks: `defineTask<Payload, Result>(name)` names a task once, with the types of its
 * payload and result, so `register`, `submit` and `result()` agree on them at compile time
 * (a misspelt name or a wrong payload does not type-check). Types only: at run time a
 * definition is its name.
 */
import { InvalidArgumentError } from "./errors.js";

declare const payloadType: unique symbol;
declare const resultType: unique symbol;

/** A task's name, with its payload type `P` and result type `R` (for the compiler only). */
export interface TaskDefinition<P = unknown, R = unknown> {
  readonly name: string;
  /** Never set: carries `P` for the compiler. */
  readonly [payloadType]?: P;
  /** Never set: carries `R` for the compiler. */
  readonly [resultType]?: R;
}

const definitions = new WeakSet<object>();

/**
 * Defines a task name with its payload and result types.
 *
 * @example
 * ```ts
 * const sendReceipt = defineTask<{ orderId: string }, { messageId: string }>("receipt.send");
 * mill.register(sendReceipt, async ({ orderId }) => ({ messageId: await mail(orderId) }));
 * const task = await mill.submit(sendReceipt, { orderId: "o-1" }); // payload checked
 * const { messageId } = await task.result(); // typed
 * ```
 * @throws InvalidArgumentError if `name` is not a non-empty string.
 */
export function defineTask<P = undefined, R = unknown>(name: string): TaskDefinition<P, R> {
  if (typeof name !== "string" || name.length === 0)
    throw new InvalidArgumentError("name", "must be a non-empty string", name);
  const definition = Object.freeze({ name });
  definitions.add(definition);
  return definition;
}

/** The task name of `task`: a name, or a definition made by `defineTask` (else as given). */
export function taskName(task: unknown): unknown {
  return typeof task === "object" && task !== null && definitions.has(task)
    ? (task as TaskDefinition).name
    : task;
}
