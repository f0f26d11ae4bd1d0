// Summaries of a V8 .cpuprofile (as written by node --cpu-prof): self time by module and by
// function, so a profile can be read in a terminal.
import { readFileSync } from "node:fs";

const SPECIAL = new Set(["(idle)", "(garbage collector)", "(program)", "(root)"]);

function moduleOf(url) {
  if (!url) return "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const dist = /\/dist\/(.*)\/[^/]+$/.exec(url);
  if (dist) return `taskmill ${dist[1]}`;
  if (/\/dist\/[^/]+$/.test(url)) return "taskmill";
  if (url.startsWith("node:")) return url.split("/")[0];
  return url.replace(/.*\//, "");
}

function shortUrl(url) {
  return url.replace(/.*\/(dist|node_modules)\//, "$1/").replace(/^file:\/\//, "");
}

export function summarizeProfile(file, { top = 30 } = {}) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byFunction = new Map();
  const byModule = new Map();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    total += us;
    const fn = `${functionName || "(anonymous)"} ${shortUrl(url)}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const mod = SPECIAL.has(functionName) ? functionName : moduleOf(url);
    byModule.set(mod, (byModule.get(mod) ?? 0) + us);
  }
  const rows = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), pct: (us / total) * 100 }));
  return {
    totalMs: Math.round(total / 1000),
    modules: rows(byModule, 20),
    functions: rows(byFunction, top),
  };
}

export function profileText(summary) {
  const line = (r) => `${r.pct.toFixed(1).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.name}`;
  return [
    `${summary.totalMs} ms sampled`,
    "",
    "self time by module:",
    ...summary.modules.map(line),
    "",
    "self time by function:",
    ...summary.functions.map(line),
  ].join("\n");
}
