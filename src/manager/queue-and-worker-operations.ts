/**
 * The fleet operations on queues and workers behind the facade: queue pause and resume (state
 * in the store in durable mode) and the worker listing (this process's own entry in memory
 * mode, where there is no shared registry).
 */
import type { Backend, RegisteredHandler } from "../engine/backend.js";
import { localWorkers, type WorkerIdentity, workerIdentity } from "../engine/worker-identity.js";
import { InvalidArgumentError } from "../errors.js";
import type { WorkerInfo } from "../fleet.js";
import { isValidQueueName, type ResolvedOptions } from "../options.js";

export class QueueAndWorkerOperations {
  #identityCache: WorkerIdentity | undefined;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly backend: Backend,
    private readonly handlers: ReadonlyMap<string, RegisteredHandler>,
  ) {}

  /** @throws InvalidArgumentError (synchronously) for a `name` that is not a queue name */
  pause(name: string): Promise<void> {
    requireQueueName(name);
    return this.#settleQueueWrite("pauseQueue", name, this.backend.pause(name));
  }

  /** @throws InvalidArgumentError (synchronously) for a `name` that is not a queue name */
  resume(name: string): Promise<void> {
    requireQueueName(name);
    return this.#settleQueueWrite("resumeQueue", name, this.backend.resume(name));
  }

  workers(): Promise<WorkerInfo[]> {
    if (this.backend.workers !== undefined) return this.backend.workers();
    return Promise.resolve(
      localWorkers(
        this.#identity,
        this.options.clock,
        this.options.concurrency,
        this.backend.stats(),
        this.handlers,
      ),
    );
  }

  /** Made on first use: a manager that never lists workers never computes who it is. */
  get #identity(): WorkerIdentity {
    this.#identityCache ??= workerIdentity(this.options.clock);
    return this.#identityCache;
  }

  /** A failed write rejects and is logged, so a call that is not awaited is not silent. */
  #settleQueueWrite(what: string, queue: string, done: void | Promise<void>): Promise<void> {
    const written = Promise.resolve(done);
    written.catch((error: unknown) =>
      this.options.logger.warn({ err: error, queue }, `${what} could not be written`),
    );
    return written;
  }
}

function requireQueueName(name: string): void {
  if (!isValidQueueName(name))
    throw new InvalidArgumentError("queue", "must be a non-empty string", name);
}
