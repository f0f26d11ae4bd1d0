import { readFileSync } from "node:fs";
import os from "node:os";

const root = new URL("../../", import.meta.url);

function readJson(url) {
  return JSON.parse(readFileSync(url, "utf8"));
}

// Versions of what actually ran (node_modules), not the ranges written in package.json.
export function packageVersions(names) {
  const versions = { taskmill: readJson(new URL("package.json", root)).version };
  for (const name of names) {
    try {
      versions[name] = readJson(new URL(`node_modules/${name}/package.json`, root)).version;
    } catch {
      versions[name] = null;
    }
  }
  return versions;
}

export function machineInfo() {
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    // 1-minute load average: above ~0.5 per core, other processes were competing for the CPU.
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
}
