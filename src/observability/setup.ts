/**
 * Builds the manager's instrumentation from its resolved options: metrics, tracing, lifecycle
 * logging and hooks, each isolated, combined behind the one seam the runner calls.
 */
import type { ResolvedOptions } from "../options.js";
import type { TaskResult } from "../types.js";
import { guardInstrumentation } from "./guard.js";
import { HooksInstrumentation } from "./hooks.js";
import { combineInstrumentation, type Instrumentation } from "./instrumentation.js";
import { safeLog, silentLogger } from "./logger.js";
import { type DepthReader, isNoopMeter, MetricsInstrumentation } from "./metrics.js";
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from "./scope.js";
import { LoggingInstrumentation } from "./task-logging.js";
import { TracingInstrumentation } from "./tracing.js";

/** What the manager holds: the seam for the runner plus the few calls made from elsewhere. */
export interface Observability {
  readonly instrumentation: Instrumentation;
  /** True when attempts are traced: the manager then stores the submit-time context on tasks. */
  readonly tracing: boolean;
  /** A result subscription dropped a result (counted in `results_dropped_total`). */
  resultDropped(result: TaskResult, policy: string): void;
  /** An admin API request was answered (`admin_request_duration_seconds`). */
  adminRequest(method: string, route: string, status: number, seconds: number): void;
  /** The manager stopped: unregisters metric callbacks and ends spans left open. */
  close(now: number): void;
}

/** Creates the instrumentation the options ask for; `readDepths` feeds the queue gauges. */
export function createObservability(
  options: ResolvedOptions,
  readDepths: DepthReader,
): Observability {
  const logger = options.logger;
  const parts: Instrumentation[] = [];
  let metrics: MetricsInstrumentation | undefined;
  let tracing: TracingInstrumentation | undefined;
  try {
    if (options.metrics !== undefined) {
      const meter = options.metrics.meterProvider.getMeter(
        INSTRUMENTATION_NAME,
        INSTRUMENTATION_VERSION,
      );
      // The API's no-op meter never turns into a real one: skip the work altogether.
      if (!isNoopMeter(meter))
        metrics = new MetricsInstrumentation(meter, {
          now: () => options.clock.now(),
          readDepths,
          logger,
        });
    }
  } catch (error) {
    safeLog(
      logger,
      "error",
      { err: error },
      "taskmill metrics could not be set up; metrics are off",
    );
  }
  try {
    if (options.tracing !== undefined)
      tracing = new TracingInstrumentation(options.tracing.tracerProvider, {
        skipUnsampledChildren: options.tracing.skipUnsampledChildren,
      });
  } catch (error) {
    safeLog(
      logger,
      "error",
      { err: error },
      "taskmill tracing could not be set up; tracing is off",
    );
  }
  if (metrics !== undefined) parts.push(guardInstrumentation(metrics, "metrics", logger));
  if (tracing !== undefined) parts.push(guardInstrumentation(tracing, "tracing", logger));
  if (logger !== silentLogger)
    parts.push(
      guardInstrumentation(
        new LoggingInstrumentation(logger, options.logPayloads),
        "logging",
        logger,
      ),
    );
  if (options.hooks !== undefined)
    parts.push(
      guardInstrumentation(new HooksInstrumentation(options.hooks, logger), "hooks", logger),
    );

  return {
    instrumentation: combineInstrumentation(parts),
    tracing: tracing !== undefined,
    resultDropped(result, policy) {
      try {
        metrics?.resultDropped(result, policy);
      } catch (error) {
        safeLog(
          logger,
          "error",
          { err: error },
          "taskmill metrics threw counting a dropped result",
        );
      }
    },
    adminRequest(method, route, status, seconds) {
      try {
        metrics?.adminRequest(method, route, status, seconds);
      } catch (error) {
        safeLog(logger, "error", { err: error }, "taskmill metrics threw counting a request");
      }
    },
    close(now) {
      for (const part of [() => metrics?.close(), () => tracing?.close(now)]) {
        try {
          part();
        } catch (error) {
          safeLog(logger, "error", { err: error }, "taskmill observability threw while closing");
        }
      }
    },
  };
}
