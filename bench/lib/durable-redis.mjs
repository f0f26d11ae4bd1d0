// The durable suite's view of its Redis: a control connection (flush between runs, server-side
// counters around each measured phase), a MONITOR tap that counts the commands clients send,
// and redis-benchmark as the ceiling.
import { spawn } from "node:child_process";
import { Redis } from "ioredis";

const SCRIPT_COMMANDS = new Set(["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"]);

function parseInfo(text) {
  const fields = {};
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

function parseCommandStats(fields) {
  const commands = {};
  for (const [key, value] of Object.entries(fields)) {
    if (!key.startsWith("cmdstat_")) continue;
    const calls = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
    const usec = Number(/usec=(\d+)/.exec(value)?.[1] ?? 0);
    commands[key.slice("cmdstat_".length)] = { calls, usec };
  }
  return commands;
}

export class RedisControl {
  constructor(server) {
    this.server = server;
    this.redis = new Redis({ host: server.host, port: server.port, lazyConnect: false });
  }

  async version() {
    return parseInfo(await this.redis.info("server")).redis_version;
  }

  flush() {
    return this.redis.flushall("SYNC");
  }

  // Server CPU, network bytes and per-command counters; `CONFIG RESETSTAT` is avoided so that
  // nothing else is reset under a library's feet: phases are measured as differences.
  async snapshot() {
    const fields = parseInfo(await this.redis.info("all"));
    return {
      cpuSec: Number(fields.used_cpu_user) + Number(fields.used_cpu_sys),
      netInBytes: Number(fields.total_net_input_bytes),
      netOutBytes: Number(fields.total_net_output_bytes),
      commands: parseCommandStats(fields),
    };
  }

  /**
   * Server-side cost of a phase, per job. `commandsPerJob` counts every command Redis ran,
   * including the ones inside Lua scripts and MULTI blocks; `scriptsPerJob` only the script
   * calls (EVAL/EVALSHA/FCALL), which a client always sends itself.
   */
  static perJob(before, after, jobs) {
    let commands = 0;
    let scripts = 0;
    const ours = new Set(["info", "flushall", "monitor"]);
    for (const [name, stat] of Object.entries(after.commands)) {
      if (ours.has(name)) continue;
      const calls = stat.calls - (before.commands[name]?.calls ?? 0);
      commands += calls;
      if (SCRIPT_COMMANDS.has(name)) scripts += calls;
    }
    return {
      redisCpuUsPerJob: round(((after.cpuSec - before.cpuSec) * 1e6) / jobs, 1),
      commandsPerJob: round(commands / jobs, 2),
      scriptsPerJob: round(scripts / jobs, 2),
      netBytesPerJob: round(
        (after.netInBytes - before.netInBytes + after.netOutBytes - before.netOutBytes) / jobs,
        0,
      ),
    };
  }

  /**
   * Where Redis spent its time in a phase: calls and microseconds per job by command, most
   * expensive first. A script's time includes the commands it ran, which are also listed.
   */
  static byCommand(before, after, jobs, limit = 15) {
    const ours = new Set(["info", "flushall", "monitor"]);
    return Object.entries(after.commands)
      .filter(([name]) => !ours.has(name))
      .map(([name, stat]) => ({
        command: name,
        callsPerJob: round((stat.calls - (before.commands[name]?.calls ?? 0)) / jobs, 3),
        usPerJob: round((stat.usec - (before.commands[name]?.usec ?? 0)) / jobs, 2),
      }))
      .filter((c) => c.callsPerJob > 0)
      .sort((a, b) => b.usPerJob - a.usPerJob)
      .slice(0, limit);
  }

  /**
   * Counts the commands clients send (MONITOR shows them, and tags the ones run inside Lua
   * scripts as coming from "lua"), by command name, while `tap.phase` names the phase.
   * MONITOR slows Redis down: only for the unmeasured diagnostic runs.
   */
  async tap() {
    const monitor = await this.redis.monitor();
    const ownPort = String(this.redis.stream?.localPort ?? "");
    const counts = {};
    const tap = {
      phase: "idle",
      counts,
      async stop() {
        await new Promise((resolve) => setTimeout(resolve, 50));
        monitor.disconnect();
      },
    };
    monitor.on("monitor", (_time, args, source) => {
      if (source === "lua" || source.endsWith(`:${ownPort}`)) return;
      const name = String(args[0]).toLowerCase();
      if (name === "monitor" || name === "info" || name === "flushall") return;
      counts[tap.phase] ??= {};
      counts[tap.phase][name] = (counts[tap.phase][name] ?? 0) + 1;
    });
    return tap;
  }

  quit() {
    return this.redis.quit();
  }
}

function round(value, digits) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// ---- redis-benchmark ----------------------------------------------------------------------

const BENCH_TESTS = "set,get,lpush,rpop";

function runProcess(command, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk) => {
      out += chunk.toString("utf8");
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} exited with ${code ?? signal}: ${out.slice(-500)}`));
    });
  });
}

// `-q` prints "SET: 84317.03 requests per second, p50=0.311 msec" (after \r progress lines).
function parseBenchmark(output) {
  const results = {};
  for (const line of output.split(/[\r\n]+/)) {
    const match =
      /^([A-Z_]+[A-Z_ ()0-9]*):\s+([\d.]+) requests per second(?:, p50=([\d.]+) msec)?/.exec(
        line.trim(),
      );
    if (match) {
      results[match[1].trim()] = {
        requestsPerSec: Number(match[2]),
        ...(match[3] ? { p50Ms: Number(match[3]) } : {}),
      };
    }
  }
  return results;
}

/** redis-benchmark's SET/GET/LPUSH/RPOP against `server`, unpipelined and with -P `pipeline`. */
export async function redisBenchmark(server, { requests, pipeline, log }) {
  const base = ["-h", server.host, "-p", String(server.port), "-q", "-n", String(requests)];
  const runs = [
    { name: "unpipelined", args: [...base, "-t", BENCH_TESTS] },
    {
      name: `pipelined (-P ${pipeline})`,
      args: [...base, "-P", String(pipeline), "-t", BENCH_TESTS],
    },
  ];
  const results = [];
  for (const run of runs) {
    log(`  redis-benchmark ${run.args.join(" ")}`);
    try {
      const output = await runProcess("redis-benchmark", run.args, 120_000);
      results.push({
        mode: run.name,
        command: `redis-benchmark ${run.args.join(" ")}`,
        tests: parseBenchmark(output),
      });
    } catch (error) {
      results.push({
        mode: run.name,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { clients: 50, requests, results };
}
