// Turns results (the JSON written to bench/results/latest.json) into table rows, and rows into
// plain text (console) or markdown (docs). run.mjs and report.mjs share the rows so that the
// console and the docs always show the same numbers.

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

// Two decimals, but keep two significant digits for tiny ratios (Bottleneck) instead of 0.00x.
function formatRatio(ratio) {
  if (ratio === undefined) return "-";
  return `${ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}x`;
}

const formatSigned = (pct) =>
  Number.isFinite(pct) ? `${pct > 0 ? "+" : ""}${pct.toFixed(2)}%` : "n/a";

export function throughputTitle(testCase) {
  return `${testCase.workload} (${testCase.task}), concurrency ${testCase.concurrency}`;
}

export const THROUGHPUT_HEADERS = ["library", "tasks", "tasks/s (median)", "vs p-queue", "spread"];

export function throughputRows(testCase) {
  return testCase.results.map((r) =>
    r.error
      ? [r.library, integer.format(r.tasks), `error: ${r.error}`, "-", "-"]
      : [
          r.library,
          integer.format(r.tasks),
          integer.format(r.tasksPerSec),
          formatRatio(r.ratioToPQueue),
          `±${r.spreadPct.toFixed(1)}%`,
        ],
  );
}

export const RATE_HEADERS = [
  "library",
  "config",
  "tasks",
  "achieved/s",
  "error",
  "max in 100 ms",
  "max in 1 s",
  "burst excess",
  "burst check",
];

export function rateRows(rateLimit) {
  return rateLimit.results.map((r) =>
    r.error
      ? [r.library, r.config, integer.format(r.tasks), `error: ${r.error}`, "-", "-", "-", "-", "-"]
      : [
          r.library,
          r.config,
          integer.format(r.tasks),
          Number.isFinite(r.achievedPerSec) ? r.achievedPerSec.toFixed(1) : "n/a",
          formatSigned(r.errorPct),
          integer.format(r.max100ms),
          integer.format(r.max1000ms),
          r.burstExcess.toFixed(2),
          r.burstCheck ?? "n/a",
        ],
  );
}

const NUMERIC = /^[±+-]?[\d,.]+(x|%)?$/;

export function renderText(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  // Right-align numbers so that magnitudes line up.
  const line = (cells) =>
    cells
      .map((cell, i) => (NUMERIC.test(cell) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function renderMarkdown(headers, rows) {
  const escapePipes = (cell) => cell.replaceAll("|", "\\|");
  const line = (cells) => `| ${cells.map(escapePipes).join(" | ")} |`;
  const align = headers.map((_, i) =>
    rows.every((row) => NUMERIC.test(row[i]) || row[i] === "-") ? "--:" : "---",
  );
  return [line(headers), `|${align.join("|")}|`, ...rows.map(line)].join("\n");
}

export function machineLine(results) {
  const m = results.machine;
  const load = `load average ${m.loadAverage1m} at start, ${m.loadAverage1mAtEnd} at end`;
  return `${m.cpu}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, ${m.os}, Node ${m.node} (${load})`;
}

export function versionsLine(results) {
  return Object.entries(results.packages)
    .map(([name, version]) => `${name} ${version ?? "missing"}`)
    .join(", ");
}

// One table per workload, libraries down, concurrency across: the compact layout for docs.
export function throughputMatrix(cases, workload) {
  const selected = cases.filter((c) => c.workload === workload);
  const libraries = [...new Set(selected.flatMap((c) => c.results.map((r) => r.library)))];
  const headers = [
    "library",
    ...selected.flatMap((c) => [`c=${c.concurrency} tasks/s`, `c=${c.concurrency} vs p-queue`]),
  ];
  const rows = libraries.map((library) => [
    library,
    ...selected.flatMap((c) => {
      const r = c.results.find((x) => x.library === library);
      if (!r) return ["-", "-"];
      if (r.error) return ["error", "-"];
      return [integer.format(r.tasksPerSec), formatRatio(r.ratioToPQueue)];
    }),
  ]);
  return { title: selected[0] && `${workload}: \`${selected[0].task}\``, headers, rows };
}

// ---- Memory suite -------------------------------------------------------------------------

// Why drop-oldest subscribers drop results in these no-op floods (measured: a subscriber sees
// about 1/concurrency of them): see bench/README.md.
export const DROPS_NOTE =
  "Drops: a `for await` loop takes one result per microtask turn, while N no-op handlers " +
  "finish up to N tasks per turn; with the whole batch runnable at once the loop only catches " +
  "up when the event loop reaches a macrotask, so its buffer overflows (see bench/README.md)";

const mebibytes = (bytes) => (bytes / 2 ** 20).toFixed(1);
const variantName = (variant) => `${variant.subscribers} subs`;

// One row per sample (plus the one taken before the manager existed), two columns per variant.
export function memoryTable(memory) {
  const ok = memory.variants.filter((v) => !v.error);
  const headers = [
    "tasks done",
    ...ok.flatMap((v) => [`heap MiB (${variantName(v)})`, `RSS MiB (${variantName(v)})`]),
  ];
  const before = ["before (no manager)", ...ok.flatMap((v) => [v.before.heapUsed, v.before.rss])];
  const rows = memory.checkpoints.map((tasks, i) => [
    integer.format(tasks),
    ...ok.flatMap((v) => [v.samples[i].heapUsed, v.samples[i].rss]),
  ]);
  const cells = (row) => [row[0], ...row.slice(1).map(mebibytes)];
  return { headers, rows: [before, ...rows].map(cells) };
}

export const MEMORY_CHECK_HEADERS = [
  "variant",
  "heap first → last",
  "heap check",
  "RSS first → last",
  "RSS check",
  "each subscriber saw",
  "dropped",
  "tasks/s (pass)",
];

export function memoryCheckRows(memory) {
  const change = ({ first, last, changePct }) =>
    `${mebibytes(first)} → ${mebibytes(last)} MiB (${formatSigned(changePct)})`;
  return memory.variants.map((v) => {
    if (v.error) return [variantName(v), `error: ${v.error}`, "-", "-", "-", "-", "-", "-"];
    const seen = v.subscriberResults.map((s) => integer.format(s.seen));
    const dropped = v.subscriberResults.map((s) => integer.format(s.dropped));
    return [
      variantName(v),
      change(v.heap),
      v.heap.check,
      change(v.rss),
      v.rss.check,
      seen.length ? `${seen.join(", ")} of ${integer.format(v.tasks)}` : "-",
      dropped.length ? dropped.join(", ") : "-",
      integer.format(v.tasksPerSec),
    ];
  });
}

// What the result subscribers of a throughput variant saw over its measured runs.
function subscribersSummary(runReports) {
  const all = runReports.flatMap((run) => run.subscribers.map((s) => ({ ...s, of: run.results })));
  if (all.length === 0) return undefined;
  const seenPct = all.map((s) => (s.seen / s.of) * 100);
  const range = (values) => {
    const [low, high] = [Math.min(...values), Math.max(...values)];
    return low === high ? `${low.toFixed(1)}%` : `${low.toFixed(1)}-${high.toFixed(1)}%`;
  };
  const dropped = all.reduce((sum, s) => sum + s.dropped, 0);
  return `each subscriber saw ${range(seenPct)} of the results (${integer.format(dropped)} dropped over ${runReports.length} runs)`;
}

// The throughput comparisons held to a target (taskmill with subscribers vs without).
export function comparisonLines(throughput) {
  return throughput.cases.flatMap((testCase) =>
    testCase.results
      .filter((r) => r.comparison)
      .map(({ library, comparison: c, runReports }) => {
        if (c.check === "n/a") return `${library} vs ${c.library}: n/a (one of them failed)`;
        const subscribers = runReports && subscribersSummary(runReports);
        return (
          `${library} vs ${c.library} (${throughputTitle(testCase)}): ${formatRatio(c.ratio)} ` +
          `(ratio of the median tasks/s), ${formatRatio(c.pairedRatio)} (median of the ` +
          `per-round ratios); target >= ${c.minRatio}: ${c.check}` +
          (subscribers ? `; ${subscribers}` : "")
        );
      }),
  );
}

export function memoryText(memory) {
  const { headers, rows } = memoryTable(memory);
  return [
    `== Memory: ${integer.format(memory.tasks)} no-op tasks through one TaskManager ` +
      `(concurrency ${memory.concurrency}, retention ${memory.retention}), batches of ` +
      `${integer.format(memory.batch)} ==`,
    `${memory.isolation}; flat = last sample within ${memory.maxChangePct}% of the first.`,
    renderText(headers, rows),
    "",
    renderText(MEMORY_CHECK_HEADERS, memoryCheckRows(memory)),
    "RSS moves with the allocator and the machine; the heap check is the one that counts.",
    ...(memory.variants.some((v) => v.subscriberResults?.some((s) => s.dropped > 0))
      ? [`${DROPS_NOTE}.`]
      : []),
  ].join("\n");
}
