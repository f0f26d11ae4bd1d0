// Prints bench/results/latest.json (or the file given as argument) as a markdown section to
// paste into docs/benchmarks.md:  node bench/report.mjs [results.json] >> docs/benchmarks.md
// Also takes the file written by bench/memory.mjs (memory only) and the one written by
// bench/durable.mjs (durable mode only): absent suites are skipped.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { durableMarkdown } from "./lib/durable-format.mjs";
import {
  comparisonLines,
  DROPS_NOTE,
  MEMORY_CHECK_HEADERS,
  machineLine,
  memoryCheckRows,
  memoryTable,
  RATE_HEADERS,
  rateRows,
  renderMarkdown,
  throughputMatrix,
  versionsLine,
} from "./lib/format.mjs";

const file = resolve(process.argv[2] ?? new URL("results/latest.json", import.meta.url).pathname);
const results = JSON.parse(readFileSync(file, "utf8"));

function caveats() {
  const notes = [];
  if (results.settings.quick) notes.push("**Smoke-test run (BENCH_QUICK=1): not a measurement.**");
  if (!results.taskmill.source) notes.push("**taskmill was not measured (peers only).**");
  else if (!results.taskmill.isDefaultBuild) {
    notes.push(`**taskmill was loaded from ${results.taskmill.source}, not from dist/.**`);
  }
  return notes;
}

function throughputSection() {
  const t = results.throughput;
  const workloads = [...new Set(t.cases.map((c) => c.workload))];
  const lines = [
    "### Throughput",
    "",
    `Median tasks/s of ${t.reps} runs per case, libraries interleaved round-robin after one ` +
      "warm-up run each. Every library gets one completion promise per task and the batch is " +
      "awaited with `Promise.all`. `vs p-queue` = tasks/s ÷ p-queue's in the same run " +
      "(above 1 is faster). `c` = concurrency.",
    "",
  ];
  for (const workload of workloads) {
    const { title, headers, rows } = throughputMatrix(t.cases, workload);
    const batches = t.cases.find((c) => c.workload === workload).results;
    const sizes = [
      ...new Set(batches.map((r) => `${r.library}: ${r.tasks.toLocaleString("en-US")}`)),
    ];
    lines.push(`#### ${title}`, "", `Tasks per run: ${sizes.join(", ")}.`, "");
    lines.push(renderMarkdown(headers, rows), "");
  }
  const notes = t.cases
    .flatMap((c) => c.results)
    .filter((r) => r.note)
    .map((r) => `- ${r.library}: ${r.note}`);
  lines.push(...new Set(notes));
  const comparisons = comparisonLines(t);
  if (comparisons.length > 0) {
    lines.push("", "Result subscribers attached vs none, same case, same rounds:", "");
    lines.push(...comparisons.map((line) => `- ${line}`));
  }
  return lines;
}

function rateSection() {
  const r = results.rateLimit;
  return [
    "### Rate-limit precision",
    "",
    `${r.perSecond}/s configured, no-op tasks, concurrency ${r.concurrency}, ${r.reps} runs each. ` +
      "Achieved rate = (n - 1) / (last start - first start), median run. Window columns: most " +
      "starts in any sliding window, worst run. Burst excess: worst over all windows of " +
      `starts - (${r.burst} + ${r.perSecond} × t); taskmill (burst ${r.burst}) must stay at or ` +
      `below 0 (${r.slackMs} ms timestamp slack).`,
    "",
    renderMarkdown(RATE_HEADERS, rateRows(r)),
  ];
}

function memorySection() {
  const m = results.memory;
  const { headers, rows } = memoryTable(m);
  const variants = m.variants.map((v) => v.subscribers).join(" and ");
  const options = Object.entries(m.subscriberOptions)
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
    .join(", ");
  return [
    `### Memory over ${m.tasks.toLocaleString("en-US")} tasks`,
    "",
    `${m.tasks.toLocaleString("en-US")} no-op tasks through one \`TaskManager\` ` +
      `(concurrency ${m.concurrency}, no retries, retention ${m.retention}) with ${variants} ` +
      `result subscribers (\`subscribeResults({ ${options} })\`, each drained by a \`for await\` ` +
      `loop), submitted in batches of ${m.batch.toLocaleString("en-US")} whose results are ` +
      "awaited before the next batch. Heap used and RSS after two forced garbage collections, " +
      `${m.isolation.replace(/, sampled.*/, "")}, one pass per variant. Flat = the last sample ` +
      `within ${m.maxChangePct}% of the first. RSS also depends on the allocator and the ` +
      "machine; the heap is the figure that shows retention.",
    "",
    renderMarkdown(headers, rows),
    "",
    renderMarkdown(MEMORY_CHECK_HEADERS, memoryCheckRows(m)),
    ...(m.variants.some((v) => v.subscriberResults?.some((s) => s.dropped > 0))
      ? ["", `${DROPS_NOTE}.`]
      : []),
  ];
}

function durableSection(durable) {
  if (durable.error)
    return ["## Durable mode (Redis) benchmarks", "", `Not measured: ${durable.error}`];
  return durableMarkdown(durable, { render: renderMarkdown, machineLine });
}

// A file written by bench/durable.mjs holds the durable suite alone.
if (results.suite === "durable") {
  process.stdout.write(`${durableSection(results).join("\n")}\n`);
  process.exit(0);
}

const lines = [
  "## In-memory engine benchmarks",
  "",
  ...caveats().flatMap((note) => [note, ""]),
  `Measured ${results.date.slice(0, 10)} on ${machineLine(results)}.`,
  `Versions: ${versionsLine(results)}. Run with \`npm run bench\`.`,
  ...(results.throughput ? ["", ...throughputSection()] : []),
  ...(results.rateLimit ? ["", ...rateSection()] : []),
  ...(results.memory ? ["", ...memorySection()] : []),
  // A durable suite skipped on purpose (BENCH_SKIP_DURABLE) has its own file from
  // bench/durable.mjs; only a failed one is worth a section here.
  ...(results.durable && results.durable.error !== "skipped: BENCH_SKIP_DURABLE=1"
    ? ["", ...durableSection(results.durable)]
    : []),
];
process.stdout.write(`${lines.join("\n")}\n`);
