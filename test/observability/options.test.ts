import { readFileSync } from "node:fs";
import {
  INSTRUMENTATION_VERSION,
  InvalidOptionError,
  TaskManager,
  type TaskManagerOptions,
} from "taskmill";
import { describe, expect, it } from "vitest";

function rejects(options: unknown, option: string): void {
  let thrown: unknown;
  try {
    new TaskManager(options as TaskManagerOptions);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidOptionError);
  expect((thrown as InvalidOptionError).option).toBe(option);
  expect((thrown as Error).message).toContain(option);
}

describe("observability options are validated, naming the option", () => {
  it("metrics and tracing: false, an object, or a provider with its method", () => {
    rejects({ metrics: true }, "metrics");
    rejects({ metrics: "prometheus" }, "metrics");
    rejects({ metrics: { meterProvider: 1 } }, "metrics.meterProvider");
    rejects({ metrics: { meterProvider: {} } }, "metrics.meterProvider.getMeter");
    rejects({ tracing: 0 }, "tracing");
    rejects({ tracing: { tracerProvider: { getMeter() {} } } }, "tracing.tracerProvider.getTracer");
    rejects({ tracing: { skipUnsampledChildren: "no" } }, "tracing.skipUnsampledChildren");
    for (const options of [
      { metrics: false, tracing: false },
      { metrics: {}, tracing: {} },
      { tracing: { skipUnsampledChildren: false } },
      {},
    ])
      expect(() => new TaskManager(options as TaskManagerOptions)).not.toThrow();
  });

  it("hooks: known names only, functions only", () => {
    rejects({ hooks: 5 }, "hooks");
    rejects({ hooks: { onFinished: () => {} } }, "hooks.onFinished");
    rejects({ hooks: { onStart: "log" } }, "hooks.onStart");
    expect(() => new TaskManager({ hooks: { onFinish: undefined } })).not.toThrow();
  });

  it("logger and logPayloads", () => {
    rejects({ logger: console.log }, "logger");
    rejects({ logger: null }, "logger");
    rejects({ logger: { info() {}, warn() {}, error() {} } }, "logger.debug");
    rejects({ logPayloads: "yes" }, "logPayloads");
  });
});

describe("instrumentation scope", () => {
  it("reports the package version", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(INSTRUMENTATION_VERSION).toBe(pkg.version);
  });
});
