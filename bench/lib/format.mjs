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
  return `${m.cpu}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, ${m.os}, Node ${m.node}`;
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
