/**
 * The durable engine's submits: one task or many, through the store's deadline model
 * (`StoreCalls`), or inside the caller's own transaction for stores that have them. A task is
 * announced (`queued`, metrics) in the reply's own continuation, and only when the store
 * created it (an idempotency key may name an existing task).
 */
import { randomUUID } from "node:crypto";
import { BackendUnavailableError, CancelledError, UnsupportedError } from "../../errors.js";
import type { CheckedNode } from "../../flows/validate-flow.js";
import type { FlowNodeInput } from "../../stores/durable-flows.js";
import type { EnqueueInput, EnqueueResult } from "../../stores/durable-types.js";
import { NO_SUBMIT_OPTIONS, validateSubmitOptions } from "../../submit-options.js";
import type { SubmitOptions, TaskHandle, TransactionClient } from "../../types.js";
import type { RegisteredHandler } from "../backend.js";
import type { RunnerCounters } from "../counters.js";
import type { SubmitManyItem } from "../submit-many.js";
import type { PendingAnnouncements } from "./pending-announcements.js";
import type { Reachability } from "./reachability.js";
import type { StoreCalls } from "./store-calls.js";
import type { Connections } from "./store-session.js";
import { type AnnounceDeps, announceQueued, enqueueInput } from "./submission.js";

/** A task about to be stored, with what announcing it `queued` needs. */
interface PlannedTask {
  readonly input: EnqueueInput & { readonly queue: string };
  readonly payload: unknown;
  readonly options: SubmitOptions;
  readonly handler: RegisteredHandler | undefined;
}

/** What a timed-out submit may have done. */
const SUBMIT_MAY_BE_STORED =
  "; the task may have been stored: submit again with the same idempotencyKey to be safe";

/** What submitting needs from the engine. */
export interface SubmitterDeps {
  readonly calls: StoreCalls;
  readonly reachability: () => Reachability;
  readonly announce: AnnounceDeps;
  readonly counters: RunnerCounters;
  /** `queued` announcements a worker of this process may have to make first. */
  readonly announcements: PendingAnnouncements;
  readonly tracing: boolean;
  /** The store's name, for messages. */
  readonly storeName: string;
  /** The handle of a stored task (and its submit signal's cancel). */
  readonly handle: <R>(
    id: string,
    name: string,
    queue: string,
    signal: AbortSignal | undefined,
  ) => TaskHandle<R>;
}

export class DurableSubmitter {
  readonly #deps: SubmitterDeps;

  constructor(deps: SubmitterDeps) {
    this.#deps = deps;
  }

  async submit<R>(
    name: string,
    payload: unknown,
    options: SubmitOptions,
    handler: RegisteredHandler | undefined,
  ): Promise<TaskHandle<R>> {
    if (options !== NO_SUBMIT_OPTIONS) validateSubmitOptions(options);
    if (options.signal?.aborted) throw new CancelledError("signal");
    const input = enqueueInput(name, payload, options, handler, this.#deps.tracing);
    if (options.tx !== undefined) {
      const [id] = await this.#enqueueIn(options.tx, [input]);
      return this.#deps.handle<R>(id as string, name, input.queue, options.signal);
    }
    const id = await this.#deps.calls.run("submit", SUBMIT_MAY_BE_STORED, async (connections) => {
      await this.#ready(connections);
      // Announced in the reply's own continuation, or by a worker here that claims the task
      // before this reply is read (PendingAnnouncements): never `started` before `queued`.
      const planned = { input, payload, options, handler };
      const result = await this.#storing([planned], () => connections.store.enqueue(input));
      this.#settle(input.id as string, result);
      return result.id;
    });
    return this.#deps.handle<R>(id, name, input.queue, options.signal);
  }

  /** All or nothing in one round trip; handles in order. */
  async submitMany(
    items: readonly SubmitManyItem[],
    handlers: ReadonlyMap<string, RegisteredHandler>,
    tx?: TransactionClient,
  ): Promise<TaskHandle[]> {
    const prepared = items.map((item) => {
      const options = item.options ?? NO_SUBMIT_OPTIONS;
      if (options.signal?.aborted) throw new CancelledError("signal");
      const handler = handlers.get(item.name);
      const input = enqueueInput(item.name, item.payload, options, handler, this.#deps.tracing);
      return { item, options, handler, input };
    });
    const inputs = prepared.map((entry) => entry.input);
    const ids =
      tx !== undefined
        ? await this.#enqueueIn(tx, inputs)
        : await this.#deps.calls.run("submitMany", SUBMIT_MAY_BE_STORED, async (connections) => {
            await this.#ready(connections);
            const planned = prepared.map(({ item, options, handler, input }) => ({
              input,
              payload: item.payload,
              options,
              handler,
            }));
            const results = await this.#storing(planned, () =>
              connections.store.enqueueMany(inputs),
            );
            for (const [i, result] of results.entries())
              this.#settle(inputs[i]?.id as string, result);
            return results.map((result) => result.id);
          });
    return prepared.map(({ item, options, input }, i) =>
      this.#deps.handle(ids[i] as string, item.name, input.queue, options.signal),
    );
  }

  /**
   * Stores a flow (checked by `checkFlow`) atomically in one store call; resolves with its id
   * and the nodes' task ids in order. Only nodes queued at once are announced `queued` here.
   */
  async submitFlow(
    nodes: readonly CheckedNode[],
    handlers: ReadonlyMap<string, RegisteredHandler>,
    kind: "flow" | "batch",
  ): Promise<{ readonly id: string; readonly tasks: readonly FlowNodeInput[] }> {
    const prepared = nodes.map((node) => {
      const handler = handlers.get(node.name);
      const task = enqueueInput(node.name, node.payload, node.options, handler, this.#deps.tracing);
      return { node, handler, task: { ...task, id: task.id as string } };
    });
    const tasks: FlowNodeInput[] = prepared.map(({ node, task }) => ({
      task,
      ref: node.ref,
      dependsOn: node.dependsOn,
      dependents: node.dependents.map((index) => prepared[index]?.task.id as string),
      policy: node.onDependencyFailure,
    }));
    const id = `flow-${randomUUID()}`;
    const store = await this.#deps.calls.run("submitFlow", "", async (connections) => {
      await this.#ready(connections);
      return connections.store;
    });
    if (store.enqueueFlow === undefined)
      throw new UnsupportedError(
        `submitFlow() and submitBatch() need a store that keeps flows (memory or redis), not ${this.#deps.storeName}`,
      );
    await this.#deps.calls.run(
      "submitFlow",
      "; the flow may have been stored",
      async (connections) => {
        const queuedAtOnce = prepared
          .filter(({ node }) => node.dependencies.length === 0)
          .map(({ node, handler, task }) => ({
            input: task,
            payload: node.payload,
            options: node.options,
            handler,
          }));
        await this.#storing(queuedAtOnce, () =>
          (connections.store.enqueueFlow as NonNullable<typeof store.enqueueFlow>).call(
            connections.store,
            { id, kind, nodes: tasks, freshIds: true },
          ),
        );
        // A flow is stored whole with the ids given: every node was created.
        for (const { input } of queuedAtOnce) this.#deps.announcements.settle(input.id, true);
      },
    );
    return { id, tasks };
  }

  /**
   * Enqueues in the caller's open transaction. Nothing is announced (`queued` events, metrics):
   * the transaction may still roll back, and then the task never existed. The wait for the
   * store's connection and result reader is bounded by `callTimeoutMs`; the statement itself
   * runs on the caller's connection, in the caller's time.
   */
  async #enqueueIn(tx: TransactionClient, inputs: readonly EnqueueInput[]): Promise<string[]> {
    const store = await this.#deps.calls.run("submit", "", async (connections) => {
      await this.#ready(connections);
      return connections.store;
    });
    if (store.enqueueIn === undefined)
      throw new UnsupportedError(
        `submit({ tx }) needs a store with transactions (backend { type: "postgres" }), not ${this.#deps.storeName}`,
      );
    const results = await store.enqueueIn(tx, inputs);
    return results.map((result) => result.id);
  }

  /**
   * Before a task exists, the result reader must be live (its starting point fixed), so that a
   * subscriber or listener made before the submit sees its result; and the command connection
   * must be up (a submit is not queued behind a reconnect).
   */
  async #ready(connections: Connections): Promise<void> {
    await connections.feed.ensureLive();
    const status = connections.connection.status;
    if (status === "connected") return;
    throw (
      this.#deps.reachability().failure() ?? new BackendUnavailableError(`connection is ${status}`)
    );
  }

  /**
   * Runs `call`, which stores the tasks `planned`, with their `queued` announcements noted
   * first: a worker here that claims one before the reply is read announces it then (never
   * `started` before `queued`). If the call fails, nothing is announced here.
   */
  async #storing<T>(planned: readonly PlannedTask[], call: () => Promise<T>): Promise<T> {
    const announcements = this.#deps.announcements;
    for (const { input, payload, options, handler } of planned) {
      const id = input.id as string;
      announcements.expect(id, () => this.#created(id, input, payload, options, handler));
    }
    try {
      return await call();
    } catch (error) {
      for (const { input } of planned) announcements.forget(input.id as string);
      throw error;
    }
  }

  /** The store answered for the task planned as `id`: announced unless it already existed. */
  #settle(id: string, result: EnqueueResult): void {
    this.#deps.announcements.settle(id, result.created && result.id === id);
  }

  #created(
    id: string,
    input: EnqueueInput & { readonly queue: string },
    payload: unknown,
    options: SubmitOptions,
    handler: RegisteredHandler | undefined,
  ): void {
    this.#deps.counters.submitted++;
    announceQueued(this.#deps.announce, id, input.name, input.queue, payload, options, handler);
  }
}
