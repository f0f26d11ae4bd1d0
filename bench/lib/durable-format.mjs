// Rows for the durable suite's tables, shared by bench/durable.mjs (console) and
// bench/report.mjs (markdown), so both always show the same numbers.

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const ms = (value) => (Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : "-");
const ratio = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : "-");
const num = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "-");

export const LIBRARY_LABELS = { taskmill: "taskmill", bullmq: "BullMQ", "bee-queue": "bee-queue" };
const label = (library) => LIBRARY_LABELS[library] ?? library;

/** One row per library, jobs/s and ratio to BullMQ per concurrency across. */
export function durableThroughputMatrix(throughput) {
  const libraries = [...new Set(throughput.cases.flatMap((c) => c.results.map((r) => r.library)))];
  const headers = [
    "library",
    ...throughput.cases.flatMap((c) => [
      `c=${c.concurrency} jobs/s`,
      `c=${c.concurrency} vs BullMQ`,
    ]),
    "enqueue jobs/s",
  ];
  const rows = libraries.map((library) => {
    const results = throughput.cases.map((c) => c.results.find((r) => r.library === library));
    const enqueue = results
      .flatMap((r) => r?.runs ?? [])
      .map((run) => run.enqueuePerSec)
      .sort((a, b) => a - b);
    return [
      label(library),
      ...results.flatMap((r) => {
        if (!r) return ["-", "-"];
        if (r.error) return ["error", "-"];
        return [integer.format(r.jobsPerSec), ratio(r.ratioToBaseline)];
      }),
      enqueue.length ? integer.format(enqueue[enqueue.length >> 1]) : "-",
    ];
  });
  return { headers, rows };
}

export const DURABLE_DETAIL_HEADERS = [
  "library",
  "c",
  "jobs/s",
  "spread",
  "paired vs BullMQ",
  "node CPU µs/job",
  "Redis CPU µs/job",
  "busy node/Redis",
  "Redis cmds/job",
  "scripts/job",
  "bytes/job",
  "node syscalls/job",
  "Redis syscalls/job",
];

/** Per case: the cost side (medians of the processing phase). */
export function durableDetailRows(throughput) {
  return throughput.cases.flatMap((c) =>
    c.results.map((r) =>
      r.error
        ? [label(r.library), String(c.concurrency), `error: ${r.error}`, ...Array(10).fill("-")]
        : [
            label(r.library),
            String(c.concurrency),
            integer.format(r.jobsPerSec),
            `±${r.spreadPct.toFixed(1)}%`,
            ratio(r.pairedRatioToBaseline),
            num(r.nodeCpuUsPerJob),
            num(r.redisCpuUsPerJob),
            `${r.nodeBusyPct}% / ${r.redisBusyPct}%`,
            num(r.commandsPerJob, 2),
            num(r.scriptsPerJob, 2),
            integer.format(r.netBytesPerJob),
            num(r.nodeSyscallsPerJob, 2),
            num(r.redisSyscallsPerJob, 2),
          ],
    ),
  );
}

export const LATENCY_HEADERS = [
  "library",
  "jobs",
  "offered/s",
  "p50 ms",
  "p90 ms",
  "p99 ms",
  "max ms",
  "p99 per round",
  "median-round p99",
  "to complete: p50 ms",
  "p99 ms",
  "p99 per round",
  "median-round p99",
];

export function durableLatencyRows(latency) {
  return latency.results.map((r) =>
    r.error
      ? [label(r.library), `error: ${r.error}`, ...Array(11).fill("-")]
      : [
          label(r.library),
          integer.format(r.count),
          integer.format(r.offeredPerSec),
          ms(r.p50Ms),
          ms(r.p90Ms),
          ms(r.p99Ms),
          ms(r.maxMs),
          r.rounds.map((x) => ms(x.p99Ms)).join(" / "),
          ms(r.medianRoundP99Ms),
          ...(r.complete
            ? [
                ms(r.complete.p50Ms),
                ms(r.complete.p99Ms),
                r.rounds.map((x) => ms(x.complete.p99Ms)).join(" / "),
                ms(r.complete.medianRoundP99Ms),
              ]
            : Array(4).fill("-")),
        ],
  );
}

export function redisBenchmarkTable(bench) {
  const ok = bench.results.filter((r) => !r.error);
  const tests = [...new Set(ok.flatMap((r) => Object.keys(r.tests)))];
  const headers = ["command", ...bench.results.map((r) => `${r.mode} req/s`)];
  const rows = tests.map((test) => [
    test,
    ...bench.results.map((r) =>
      r.error ? "error" : r.tests[test] ? integer.format(r.tests[test].requestsPerSec) : "-",
    ),
  ]);
  return { headers, rows };
}

export const COMMANDS_HEADERS = [
  "library",
  "c",
  "enqueue cmds/job",
  "process cmds/job",
  "process: by command (per job)",
];

export function durableCommandsRows(commands) {
  return commands.results.map((r) => {
    if (r.error) return [label(r.library), String(r.concurrency), `error: ${r.error}`, "-", "-"];
    const top = Object.entries(r.process.byCommand)
      .filter(([, n]) => n >= 0.01)
      .map(([name, n]) => `${name} ${n.toFixed(2)}`)
      .join(", ");
    return [
      label(r.library),
      String(r.concurrency),
      num(r.enqueue.total, 2),
      num(r.process.total, 2),
      top || "-",
    ];
  });
}

export function durableTargetLines(targets) {
  return targets.map((t) => {
    const value =
      t.value === null
        ? "n/a"
        : typeof t.value === "number"
          ? ratio(t.value)
          : Object.entries(t.value)
              .map(([library, v]) => `${label(library)} ${ms(v)} ms`)
              .join(" vs ");
    return `${t.target}: ${value} -> ${t.check}`;
  });
}

export function durableVersionsLine(results) {
  return Object.entries(results.packages)
    .map(([name, version]) => `${name} ${version ?? "missing"}`)
    .join(", ");
}

// ---- Markdown (bench/report.mjs) --------------------------------------------------------------

/** The durable suite as a markdown section; `render` is format.mjs's renderMarkdown. */
export function durableMarkdown(durable, { render, machineLine }) {
  const lines = ["## Durable mode (Redis) benchmarks", ""];
  if (durable.settings.quick)
    lines.push("**Smoke-test run (BENCH_QUICK=1): not a measurement.**", "");
  if (durable.taskmill?.source && !durable.taskmill.isDefaultBuild)
    lines.push(`**taskmill was loaded from ${durable.taskmill.source}, not from dist/.**`, "");
  lines.push(
    `Measured ${durable.date.slice(0, 10)} on ${machineLine(durable)}, in ${durable.durationSec} s.`,
    `Redis ${durable.redis.version} (${durable.redis.config}) started by the bench; every library ` +
      `on the same server, flushed between runs. Versions: ${durableVersionsLine(durable)}. ` +
      "Run with `node --expose-gc bench/durable.mjs` (or `npm run bench`, which runs it last).",
  );
  for (const s of durable.skipped ?? [])
    lines.push("", `${label(s.library)} was not measured: ${s.reason}`);
  const b = durable.redisBenchmark;
  if (b) {
    const { headers, rows } = redisBenchmarkTable(b);
    lines.push(
      "",
      "### The ceiling: redis-benchmark",
      "",
      `\`redis-benchmark -q -n ${b.requests}\` (${b.clients} clients) on the same server.`,
      "",
      render(headers, rows),
    );
  }
  const t = durable.throughput;
  if (t) {
    const { headers, rows } = durableThroughputMatrix(t);
    lines.push(
      "",
      "### Throughput",
      "",
      `${t.jobs.toLocaleString("en-US")} no-op jobs per run, median jobs/s of ${t.reps} rounds ` +
        "(libraries rotated every case and round, one warm-up run each). Method: " +
        `${t.method}. Producer: ${t.producer}. \`vs BullMQ\` = jobs/s ÷ BullMQ's; ` +
        "enqueue = median over all runs.",
      "",
      render(headers, rows),
      "",
      "Cost of the processing phase per job (medians). CPU: this process (producer idle, worker " +
        "busy) and redis-server (INFO cpu). Redis cmds: every command Redis ran, including the " +
        "ones inside Lua scripts and MULTI blocks; scripts: EVALSHA calls. Syscalls: read + write " +
        "system calls (/proc/<pid>/io), i.e. socket round-trip legs. Paired: median of the " +
        "same-round ratios to BullMQ. Busy: the share of one core each process used over " +
        "the phase (low on both sides: they wait on each other's round trips).",
      "",
      render(DURABLE_DETAIL_HEADERS, durableDetailRows(t)),
    );
  }
  const l = durable.latency;
  if (l) {
    lines.push(
      "",
      "### Enqueue-to-start and enqueue-to-complete latency",
      "",
      `${l.perSecond.toLocaleString("en-US")} jobs/s offered for ${l.durationMs / 1000} s per ` +
        `round, concurrency ${l.concurrency}, ${l.reps} rounds. Method: ${l.method}.`,
      "",
      render(LATENCY_HEADERS, durableLatencyRows(l)),
    );
  }
  const m = durable.submitMany;
  if (m) {
    lines.push(
      "",
      "### Bulk submit",
      "",
      `${m.tasks.toLocaleString("en-US")} tasks per run, ${m.reps} rounds. Method: ${m.method}.`,
      "",
      render(
        ["way", "tasks/s", "vs bee-queue", "node µs/task", "Redis µs/task", "rounds"],
        m.results.map((r) => [
          r.way,
          integer.format(r.perSecond),
          r.vsBeeQueue === null ? "-" : ratio(r.vsBeeQueue),
          r.nodeUsPerTask.toFixed(1),
          r.redisUsPerTask.toFixed(1),
          r.rounds.map((x) => integer.format(x)).join(" / "),
        ]),
      ),
    );
  }
  const c = durable.commands;
  if (c) {
    lines.push(
      "",
      "### Commands sent per job",
      "",
      `${c.method}; ${c.jobs.toLocaleString("en-US")} jobs per run.`,
      "",
      render(COMMANDS_HEADERS, durableCommandsRows(c)),
    );
  }
  if (durable.targets?.length) {
    lines.push("", "### Targets", "", ...durableTargetLines(durable.targets).map((x) => `- ${x}`));
  }
  return lines;
}
