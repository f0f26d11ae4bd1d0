/**
 * The deployment pack (examples/deploy) tested without Docker: `promtool check` on its rules
 * and config, then the real API process and worker of the pack (api.mjs, worker.mjs) on a real
 * redis-server, scraped by a real Prometheus server (Debian's /usr/bin/prometheus, loopback, a
 * temporary data dir), during a workload that exercises every operator question. Every query
 * of the Grafana dashboard and every alert expression must return data (Prometheus' HTTP API),
 * and every alert must be active in Prometheus' own rule evaluation; "no worker alive" after
 * the worker is killed with SIGKILL. Every process is started here and stopped by its pid.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";

const DEPLOY = fileURLToPath(new URL("../../examples/deploy/", import.meta.url));
const HANDLERS = fileURLToPath(new URL("./handlers.mjs", import.meta.url));
const PROMETHEUS = "/usr/bin/prometheus";
const WRITE_TOKEN = "deploy-test-write-token-0123456789";
const PREFIX = `deploy-${randomUUID().slice(0, 8)}`;

const children: ChildProcess[] = [];
const logs = new Map<ChildProcess, string[]>();
let redis: RedisServer | undefined;
let dataDir: string;
let promUrl: string;
let adminUrl: string;
let worker: ChildProcess;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address !== null
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

function start(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  logs.set(child, lines);
  child.stdout?.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  children.push(child);
  return child;
}

/** Polls `check` until it returns a value, or fails with the processes' output. */
async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      const output = [...logs.values()]
        .map((lines) => lines.join("").slice(-2_000))
        .join("\n---\n");
      throw new Error(`timed out waiting for ${what}\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

async function query(expr: string): Promise<Sample[]> {
  const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data: { result: Sample[] };
  };
  if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

const nonEmpty = (expr: string) => async () => {
  const result = await query(expr);
  return result.length > 0 ? result : undefined;
};

/** Submits through the API process; the queue is named (the API process has no handlers). */
async function submit(name: string, payload: unknown, queue: string): Promise<string> {
  const response = await fetch(`${adminUrl}/v1/tasks`, {
    method: "POST",
    headers: { authorization: `Bearer ${WRITE_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name, payload, options: { queue } }),
  });
  const body = (await response.json()) as { task: { id: string } };
  if (response.status !== 201) throw new Error(`submit ${name}: ${response.status}`);
  return body.task.id;
}

/** The alerting rules: name and expression, read from the pack's file. */
function alertRules(): Array<{ alert: string; expr: string }> {
  const text = readFileSync(join(DEPLOY, "prometheus/alerts.yml"), "utf8");
  const out = spawnSync(
    "promtool",
    ["check", "rules", "--lint=none", join(DEPLOY, "prometheus/alerts.yml")],
    {
      encoding: "utf8",
    },
  );
  expect(out.status, out.stdout + out.stderr).toBe(0);
  // A small reader for this file's layout: `- alert: Name` then an `expr:` (inline or `|` block).
  const rules: Array<{ alert: string; expr: string }> = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const alert = /^\s*- alert: (\S+)/.exec(lines[i] as string)?.[1];
    if (alert === undefined) continue;
    let j = i + 1;
    while (!/^\s*expr:/.test(lines[j] as string)) j++;
    const inline = /^\s*expr:\s*(.*)$/.exec(lines[j] as string)?.[1] ?? "";
    if (inline !== "|") {
      rules.push({ alert, expr: inline });
      continue;
    }
    const indent = (lines[j] as string).search(/\S/);
    const body: string[] = [];
    for (
      j++;
      j < lines.length &&
      ((lines[j] as string).trim() === "" || (lines[j] as string).search(/\S/) > indent);
      j++
    )
      body.push((lines[j] as string).trim());
    rules.push({ alert, expr: body.join(" ") });
  }
  return rules;
}

function dashboardQueries(): Array<{ panel: string; expr: string }> {
  const dashboard = JSON.parse(
    readFileSync(join(DEPLOY, "grafana/dashboards/taskmill.json"), "utf8"),
  ) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  return dashboard.panels.flatMap((panel) =>
    panel.targets.map((target) => ({
      panel: panel.title,
      // Grafana's interval variable; the scrape interval here is 1 s.
      expr: target.expr.replaceAll("$__rate_interval", "1m"),
    })),
  );
}

describe("deployment pack (examples/deploy) against a real Prometheus", () => {
  beforeAll(async () => {
    redis = await startRedisServer();
    const [adminPort, apiMetrics, workerMetrics, promPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const common = {
      REDIS_URL: redis.url,
      TASKMILL_PREFIX: PREFIX,
      METRICS_HOST: "127.0.0.1",
    };
    start(process.execPath, [join(DEPLOY, "api.mjs")], {
      ...common,
      ADMIN_HOST: "127.0.0.1",
      ADMIN_PORT: String(adminPort),
      METRICS_PORT: String(apiMetrics),
      TASKMILL_WRITE_TOKEN: WRITE_TOKEN,
    });
    worker = start(process.execPath, [join(DEPLOY, "worker.mjs")], {
      ...common,
      METRICS_PORT: String(workerMetrics),
      TASKMILL_CONCURRENCY: "2",
      TASKMILL_HANDLERS: HANDLERS,
    });
    adminUrl = `http://127.0.0.1:${adminPort}`;

    dataDir = mkdtempSync(join(tmpdir(), "taskmill-prometheus-"));
    const config = join(dataDir, "prometheus.yml");
    writeFileSync(
      config,
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ["${join(DEPLOY, "prometheus/alerts.yml")}"]
scrape_configs:
  - job_name: taskmill-api
    static_configs: [{ targets: ["127.0.0.1:${apiMetrics}"] }]
  - job_name: taskmill-worker
    static_configs: [{ targets: ["127.0.0.1:${workerMetrics}"] }]
`,
    );
    start(PROMETHEUS, [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dataDir, "data")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      "--log.level=warn",
    ]);
    promUrl = `http://127.0.0.1:${promPort}`;
    await until("both processes scraped", async () => {
      const up = await query("up == 1");
      return up.length === 2 ? up : undefined;
    });
  }, 90_000);

  afterAll(async () => {
    for (const child of children)
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        process.kill(child.pid, "SIGKILL");
        await exited;
      }
    await redis?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("promtool accepts the pack's alerting rules and Prometheus config", () => {
    for (const args of [
      ["check", "rules", join(DEPLOY, "prometheus/alerts.yml")],
      ["check", "config", join(DEPLOY, "prometheus/prometheus.yml")],
    ]) {
      const run = spawnSync("promtool", args, { encoding: "utf8" });
      expect(run.status, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain("SUCCESS");
    }
    expect(alertRules().map((rule) => rule.alert)).toEqual([
      "TaskmillQueueBackingUp",
      "TaskmillHighFailureRate",
      "TaskmillDeadLetterQueueGrowing",
      "TaskmillNoWorkerAlive",
      "TaskmillLeaseLosses",
      "TaskmillSlowPickup",
    ]);
  });

  it("every dashboard panel and every alert returns data during a workload", async () => {
    // A lease lost: another claim takes the running slow job's task.
    const slow = await submit("slow.job", null, "slow");
    const client = new Redis(redis?.url as string);
    try {
      await until("the slow job running", async () => {
        const response = await fetch(`${adminUrl}/v1/tasks/${slow}`, {
          headers: { authorization: `Bearer ${WRITE_TOKEN}` },
        });
        const body = (await response.json()) as { task: { status: string } };
        return body.task.status === "running" ? true : undefined;
      });
      await client.hset(`{${PREFIX}}:t:${slow}`, "token", "999999999");
    } finally {
      client.disconnect();
    }
    // Spread over scrapes (one a second), so every counter is seen rising: charges decline
    // (DLQ) and retry, emails succeed, and a queue nobody works on grows.
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 4; i++)
        await submit("email.send", { to: `user${i}@example.com` }, "email");
      await submit("invoice.charge", { amount: 10, decline: true }, "payments");
      await submit("invoice.charge", { amount: 20, flaky: true }, "payments");
      await submit("invoice.charge", { amount: 30 }, "payments");
      await submit("archive.later", { round }, "archive");
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    // Then a burst of one-second reports queues behind the worker's two slots (the p99 wait).
    for (let i = 0; i < 14; i++) await submit("report.build", { id: i }, "reports");

    // The worker has run it all (as Prometheus saw it).
    await until(
      "the workload done",
      nonEmpty(
        'sum(taskmill_tasks_failed_total{queue="payments"}) >= 6 and on () sum(taskmill_tasks_completed_total{queue="reports"}) >= 14 and on () sum(taskmill_tasks_completed_total{queue="payments"}) >= 12',
      ),
    );
    for (const { panel, expr } of dashboardQueries())
      await until(`dashboard panel "${panel}": ${expr}`, nonEmpty(expr));

    const alerts = alertRules();
    const noWorker = "TaskmillNoWorkerAlive";
    for (const { alert, expr } of alerts)
      if (alert !== noWorker) await until(`alert ${alert}: ${expr}`, nonEmpty(expr));
    expect(await query(alerts.find((rule) => rule.alert === noWorker)?.expr as string)).toEqual([]);
    // The worker dies without a word: Prometheus' next scrape fails and its series go stale.
    process.kill(worker.pid as number, "SIGKILL");
    for (const { alert, expr } of alerts) await until(`alert ${alert}: ${expr}`, nonEmpty(expr));
    // And Prometheus' own rule evaluation has every alert active (pending or firing).
    const active = await until("every alert active", async () => {
      const response = await fetch(`${promUrl}/api/v1/alerts`);
      const body = (await response.json()) as {
        data: { alerts: Array<{ labels: { alertname: string } }> };
      };
      const names = new Set(body.data.alerts.map((a) => a.labels.alertname));
      return alerts.every((rule) => names.has(rule.alert)) ? names : undefined;
    });
    expect([...active].sort()).toEqual(alerts.map((rule) => rule.alert).sort());
  }, 180_000);
});
