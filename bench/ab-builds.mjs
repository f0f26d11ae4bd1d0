// Interleaved A/B of two or more builds of taskmill on the memory engine's hottest path (no-op
// tasks, one result() each), to measure a change to it before it lands:
//
//   node --expose-gc bench/ab-builds.mjs <dist/index.js of build A> <of build B> [...]
//
// Each round runs every build once, rotating who goes first; the figure is the median tasks/s
// and its ratio to the first build named. Run it twice with the builds named in both orders:
// on V8 the build whose module loads first can run a few per cent slower, whichever it is, and
// the geometric mean of the two runs cancels that. Environment: CONC (default "1,16,256"),
// ROUNDS (default 7), TASKS (default 200000).
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const dists = process.argv.slice(2);
if (dists.length < 2) {
  console.error("usage: node --expose-gc bench/ab-builds.mjs <dist A> <dist B> [...]");
  process.exit(2);
}
const builds = [];
for (const dist of dists)
  builds.push({ dist, TaskManager: (await import(pathToFileURL(resolve(dist)).href)).TaskManager });
const tasks = Number(process.env.TASKS ?? 200_000);
const rounds = Number(process.env.ROUNDS ?? 7);
const concurrencies = (process.env.CONC ?? "1,16,256").split(",").map(Number);

async function run(TaskManager, concurrency, n) {
  const mill = new TaskManager({ concurrency, retry: { maxRetries: 0 } });
  mill.register("noop", async () => {});
  globalThis.gc?.();
  const started = performance.now();
  const pending = new Array(n);
  for (let i = 0; i < n; i++) pending[i] = mill.submit("noop", i).then((t) => t.result());
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  await mill.stopGraceful();
  return n / seconds;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
for (const concurrency of concurrencies) {
  const samples = builds.map(() => []);
  for (const build of builds) await run(build.TaskManager, concurrency, tasks / 10); // warm-up
  for (let round = 0; round < rounds; round++)
    for (let k = 0; k < builds.length; k++) {
      const i = (k + round) % builds.length;
      samples[i].push(await run(builds[i].TaskManager, concurrency, tasks));
    }
  const base = median(samples[0]);
  console.log(`no-op, concurrency ${concurrency}, median of ${rounds} rounds`);
  builds.forEach((build, i) => {
    const tps = median(samples[i]);
    console.log(
      `  ${(tps / base).toFixed(3)}x  ${Math.round(tps).toLocaleString("en")} tasks/s  ${build.dist}`,
    );
  });
}
