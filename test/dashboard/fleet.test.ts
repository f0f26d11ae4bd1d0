/**
 * The dashboard's fleet panels in a real browser (Debian's chromium, headless) against a real
 * admin server over a shared SQLite store: the Workers tab with three worker managers, one of
 * them silent (shown lost), and the Schedules tab, where a schedule is created, paused and
 * deleted by clicking.
 *
 * Set TASKMILL_SCREENSHOT=1 to write docs/images/workers.png and docs/images/schedules.png
 * (1280x800); otherwise the screenshots go to a temp dir so test runs never dirty the tree.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator } from "playwright-core";
import {
  type AdminServer,
  createAdminServer,
  TaskManager,
  type TaskManagerOptions,
} from "taskmill";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DashboardBrowser, openDashboard } from "../support/dashboard-browser.js";

const TOKEN = "fleet-dashboard-write-token";

let scratch: string;
let api: TaskManager;
const workers: TaskManager[] = [];
let server: AdminServer;
let ui: DashboardBrowser | undefined;

const byTestId = (testId: string, attributes?: Record<string, string>): Locator =>
  (ui as DashboardBrowser).byTestId(testId, attributes);

describe("dashboard fleet panels (headless chromium)", () => {
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "taskmill-fleet-dashboard-"));
    const backend: TaskManagerOptions["backend"] = {
      type: "sqlite",
      path: join(scratch, "tasks.db"),
    };
    // The API process judges the registry: lost after 3 missed 100 ms heartbeats.
    api = new TaskManager({
      backend,
      registry: { heartbeatMs: 100, lostAfterMs: 300, dropAfterMs: 600_000 },
    });
    const worker = (concurrency: number, queue: string, heartbeatMs: number) => {
      const mill = new TaskManager({ backend, concurrency, registry: { heartbeatMs } });
      mill.register(`${queue}.job`, (n: number) => n, { queue });
      workers.push(mill);
      return mill;
    };
    const email = worker(8, "email", 100);
    worker(4, "payments", 100);
    // Registers once, then is silent: what a kill -9'ed worker looks like.
    worker(2, "reports", 600_000);
    for (let n = 0; n < 5; n++)
      await (await api.submit("email.job", n, { queue: "email" })).result();
    email.schedule("digest", "0 8 * * 1-5", "email.job", 1, { timezone: "Europe/Berlin" });
    server = await createAdminServer(api, {
      host: "127.0.0.1",
      port: 0,
      auth: { tokens: [{ token: TOKEN, role: "write", name: "fleet-dashboard" }] },
    });
    ui = await openDashboard(`${server.url}/`, "fleet");
    await ui.signIn(TOKEN);
  });

  afterAll(async () => {
    await ui?.close();
    await server?.close();
    for (const mill of [api, ...workers]) await mill?.stopNow();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("the Workers tab shows every worker process, the silent one lost", async () => {
    await byTestId("tab-workers").click();
    await byTestId("worker-row", { state: "lost" }).waitFor();
    await expect.poll(() => byTestId("worker-row", { state: "alive" }).count()).toBe(2);
    const lost = byTestId("worker-row", { state: "lost" });
    expect(await lost.textContent()).toContain("reports");
    const summary = await byTestId("workers-summary").textContent();
    expect(summary).toBe("3 workers, 1 lost");
    const emailRow = byTestId("worker-row").filter({ hasText: "email" });
    expect(await emailRow.textContent()).toContain(String(process.pid));
    await ui?.screenshot("workers");
  });

  it("the Schedules tab creates, pauses and deletes schedules by clicking", async () => {
    await byTestId("tab-schedules").click();
    await byTestId("schedule-row", { schedule: "digest" }).waitFor();
    await byTestId("schedule-id").fill("nightly-report");
    await byTestId("schedule-cron").fill("0 3 * * *");
    await byTestId("schedule-task").fill("reports.job");
    await byTestId("schedule-payload").fill("7");
    await byTestId("schedule-create").click();
    const row = byTestId("schedule-row", { schedule: "nightly-report" });
    await row.waitFor();
    expect(api.schedules().find((s) => s.id === "nightly-report")).toMatchObject({
      cron: "0 3 * * *",
      taskName: "reports.job",
      paused: false,
    });
    await row.getByTestId("schedule-pause").click();
    await row.getByTestId("schedule-resume").waitFor();
    expect(await row.textContent()).toContain("paused");
    expect(api.schedules().find((s) => s.id === "nightly-report")?.paused).toBe(true);
    // The worker that will fire it sees the stored pause too (shared store).
    await expect
      .poll(() => workers[0]?.schedules().find((s) => s.id === "nightly-report")?.paused, {
        timeout: 5_000,
      })
      .toBe(true);
    await byTestId("schedule-id").fill("hourly-sync");
    await byTestId("schedule-cron").fill("0 * * * *");
    await byTestId("schedule-task").fill("payments.job");
    await byTestId("schedule-create").click();
    await byTestId("schedule-row", { schedule: "hourly-sync" }).waitFor();
    await ui?.screenshot("schedules");
    await byTestId("schedule-row", { schedule: "hourly-sync" })
      .getByTestId("schedule-delete")
      .click();
    await byTestId("schedule-row", { schedule: "hourly-sync" }).waitFor({ state: "detached" });
    expect(
      api
        .schedules()
        .map((s) => s.id)
        .sort(),
    ).toEqual(["digest", "nightly-report"]);
    expect(ui?.pageErrors).toEqual([]);
  });
});
