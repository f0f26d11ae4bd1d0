// Prints bench/results/latest.json (or the file given as argument) as a markdown section to
// paste into docs/benchmarks.md:  node bench/report.mjs [results.json] >> docs/benchmarks.md
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  machineLine,
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

const lines = [
  "## In-memory engine benchmarks",
  "",
  ...caveats().flatMap((note) => [note, ""]),
  `Measured ${results.date.slice(0, 10)} on ${machineLine(results)}.`,
  `Versions: ${versionsLine(results)}. Run with \`npm run bench\`.`,
  "",
  ...throughputSection(),
  "",
  ...rateSection(),
];
process.stdout.write(`${lines.join("\n")}\n`);
