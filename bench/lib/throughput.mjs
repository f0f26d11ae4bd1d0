// Suite 1: tasks/s for a fixed batch at several concurrency caps.
import { collectGarbage, errorMessage, roundRobin, timedBatch } from "./runner.mjs";
import { median, spreadPct } from "./stats.mjs";

export const WORKLOADS = [
  {
    name: "noop",
    description: "async () => {}",
    tasks: 200_000,
    makeTask: (counter) => async () => {
      counter.done++;
    },
  },
  {
    name: "setImmediate",
    description: "await new Promise((r) => setImmediate(r))",
    tasks: 50_000,
    makeTask: (counter) => async () => {
      await new Promise((resolve) => setImmediate(resolve));
      counter.done++;
    },
  },
];

export const CONCURRENCIES = [1, 16, 256];

const BASELINE = "p-queue";

function batchFor(contender, workload, scale) {
  const tasks = Math.round(workload.tasks * scale);
  return contender.maxBatch ? Math.min(tasks, contender.maxBatch) : tasks;
}

function appliesTo(contender, workload, concurrency) {
  const only = contender.onlyIn;
  return !only || (only.workload === workload.name && only.concurrency === concurrency);
}

async function runOnce(contender, workload, concurrency, tasks, timeoutMs) {
  const counter = { done: 0 };
  const task = workload.makeTask(counter);
  return timedBatch(contender, { concurrency, task, tasks, timeoutMs, counter });
}

// One case = one workload at one concurrency, every contender `reps` times, interleaved.
async function runCase({ contenders, workload, concurrency, settings, failed, log }) {
  const active = contenders.filter(
    (c) => appliesTo(c, workload, concurrency) && !failed.has(c.name),
  );
  const runs = new Map(active.map((c) => [c.name, []]));
  const reports = new Map(active.map((c) => [c.name, []]));
  const errors = new Map();
  // Warm-up: one unmeasured run each at 1/10 of the batch, so that JIT compilation is not measured.
  const rounds = [{ warmup: true }, ...Array.from({ length: settings.reps }, () => ({}))];
  for (const [round, { warmup }] of rounds.entries()) {
    for (const contender of roundRobin(active, round)) {
      if (errors.has(contender.name)) continue;
      const batch = batchFor(contender, workload, settings.scale);
      const tasks = warmup ? Math.ceil(batch / 10) : batch;
      try {
        const { elapsedMs, report } = await runOnce(
          contender,
          workload,
          concurrency,
          tasks,
          settings.runTimeoutMs,
        );
        if (!warmup) runs.get(contender.name).push(elapsedMs);
        if (!warmup && report) reports.get(contender.name).push(report);
      } catch (error) {
        errors.set(contender.name, errorMessage(error));
        // A failed or hung library may still have work in flight: keep it out of later cases.
        failed.set(contender.name, errorMessage(error));
        log(`  ! ${contender.name}: ${errorMessage(error)}`);
      }
      collectGarbage();
    }
  }
  return summarize(contenders, { workload, concurrency, settings, runs, reports, errors, failed });
}

function summarize(contenders, { workload, concurrency, settings, runs, reports, errors, failed }) {
  const results = contenders
    .filter((c) => appliesTo(c, workload, concurrency))
    .map((contender) => {
      const tasks = batchFor(contender, workload, settings.scale);
      const runsMs = runs.get(contender.name) ?? [];
      const error =
        errors.get(contender.name) ??
        (failed.has(contender.name)
          ? `skipped after an earlier failure: ${failed.get(contender.name)}`
          : undefined);
      if (error) return { library: contender.name, note: contender.note, tasks, error };
      const medianMs = median(runsMs);
      return {
        library: contender.name,
        note: contender.note,
        tasks,
        runsMs: runsMs.map((ms) => Math.round(ms * 100) / 100),
        medianMs: Math.round(medianMs * 100) / 100,
        tasksPerSec: Math.round((tasks / medianMs) * 1000),
        spreadPct: Math.round(spreadPct(runsMs) * 10) / 10,
        ...(reports.get(contender.name)?.length && { runReports: reports.get(contender.name) }),
      };
    });
  const baseline = results.find((r) => r.library === BASELINE && !r.error);
  for (const result of results) {
    if (baseline && !result.error) {
      result.ratioToPQueue = Number((result.tasksPerSec / baseline.tasksPerSec).toPrecision(4));
    }
  }
  for (const contender of contenders.filter((c) => c.compareTo)) {
    const result = results.find((r) => r.library === contender.name);
    if (result) result.comparison = compare(result, results, contender.compareTo);
  }
  return {
    workload: workload.name,
    task: workload.description,
    concurrency,
    tasks: Math.round(workload.tasks * settings.scale),
    results,
  };
}

// A variant held to a ratio against another contender of the same case (e.g. taskmill with
// subscribers against taskmill without). `ratio` divides the medians; `pairedRatio` is the
// median of the per-round ratios, which cancels slow phases that hit both runs of a round.
function compare(result, results, { library, minRatio }) {
  const reference = results.find((r) => r.library === library);
  if (result.error || !reference || reference.error) {
    return { library, minRatio, check: "n/a" };
  }
  const ratio = result.tasksPerSec / reference.tasksPerSec;
  const rounds = Math.min(result.runsMs.length, reference.runsMs.length);
  const perRound = Array.from(
    { length: rounds },
    (_, i) =>
      // tasks/s of this run ÷ tasks/s of the reference's run in the same round.
      (reference.runsMs[i] * result.tasks) / (result.runsMs[i] * reference.tasks),
  );
  return {
    library,
    minRatio,
    ratio: Number(ratio.toPrecision(4)),
    pairedRatio: Number(median(perRound).toPrecision(4)),
    check: ratio >= minRatio ? "PASS" : "FAIL",
  };
}

export async function runThroughputSuite({ contenders, settings, log }) {
  const failed = new Map();
  const cases = [];
  for (const workload of WORKLOADS) {
    for (const concurrency of CONCURRENCIES) {
      const startedAt = performance.now();
      const result = await runCase({ contenders, workload, concurrency, settings, failed, log });
      const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
      log(`  ${workload.name} @ concurrency ${concurrency}: ${seconds} s`);
      cases.push(result);
    }
  }
  return { baseline: BASELINE, reps: settings.reps, cases };
}
