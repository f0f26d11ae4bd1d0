/**
 * An operator's first incident in the recommended durable layout, in a real browser (Debian's
 * chromium, headless): an API process without handlers serves the dashboard, a worker on the
 * same real Redis runs the tasks. The totals show the store's figures (the worker's outcomes
 * and the dead letters), the task list starts with the newest tasks, and with
 * `exposePayloads` the task detail shows the (redacted) payload and the stack.
 *
 * Set TASKMILL_SCREENSHOT=1 to write docs/images/operator-*.png (1280x800); otherwise the
 * screenshots go to a temp dir so test runs never dirty the tree.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { type AdminServer, createAdminServer, PermanentError, TaskManager } from "taskmill";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useRedis } from "../stores/redis/fixture.js";
import { type DashboardBrowser, openDashboard } from "../support/dashboard-browser.js";

const TOKEN = "operator-test-write-token-0123";
const redis = useRedis();

let worker: TaskManager;
let api: TaskManager;
let server: AdminServer;
let ui: DashboardBrowser | undefined;
let page: Page;

const byTestId = (testId: string, attributes?: Record<string, string>): Locator =>
  (ui as DashboardBrowser).byTestId(testId, attributes);

describe("dashboard for an operator (durable layout, headless chromium)", () => {
  const submitted: string[] = [];
  let declined = "";

  beforeAll(async () => {
    const backend = {
      type: "redis" as const,
      url: redis.server().url,
      prefix: `op-${randomUUID().slice(0, 8)}`,
    };
    worker = new TaskManager({ concurrency: 4, retry: { maxRetries: 0 }, backend });
    worker.register("email.send", async (payload: { to: string }) => ({ sent: payload.to }));
    worker.register("invoice.charge", function chargeCard(payload: { invoice: string }) {
      throw new PermanentError(`card declined for invoice ${payload.invoice}`);
    });
    // The API process: no handlers, only submits and reads (the recommended layout).
    api = new TaskManager({ retry: { maxRetries: 0 }, backend });
    server = await createAdminServer(api, {
      auth: { tokens: [{ token: TOKEN, role: "write", name: "ops" }] },
      exposePayloads: true,
      redact: (payload, task) =>
        task.name === "invoice.charge"
          ? { ...(payload as object), card: { pan: "**** **** **** 4242" } }
          : payload,
    });

    for (let i = 0; i < 3; i++) {
      const task = await api.submit("invoice.charge", {
        invoice: `INV-${1040 + i}`,
        amount: 129.5,
        card: { pan: "4242424242424242" },
      });
      submitted.push(task.id);
      declined = task.id;
      await task.result().catch(() => {});
    }
    for (let i = 0; i < 57; i++) {
      const task = await api.submit("email.send", { to: `user${i}@example.com` });
      submitted.push(task.id);
    }
    // Every outcome in the store before the page loads.
    for (let tries = 0; (await api.sharedStats()).succeeded < 57 && tries < 500; tries++)
      await new Promise((resolve) => setTimeout(resolve, 10));

    ui = await openDashboard(`${server.url}/`, "operator");
    page = ui.page;
    await ui.signIn(TOKEN);
  });

  afterAll(async () => {
    await ui?.close();
    await server?.close();
    await api?.stopNow();
    await worker?.stopNow();
  });

  it("the totals of the API process show the store's outcomes and dead letters", async () => {
    await byTestId("stat-succeeded").filter({ hasText: "57" }).waitFor();
    expect(await byTestId("stat-failed").textContent()).toBe("3");
    expect(await byTestId("stat-deadLetters").textContent()).toBe("3");
    expect(await byTestId("dlq-count").textContent()).toBe("3");
    // This process ran nothing itself.
    expect(api.stats()).toMatchObject({ succeeded: 0, failed: 0 });
    await page
      .locator(".stats")
      .screenshot({ path: join((ui as DashboardBrowser).shotDir, "operator-durable-totals.png") });
  });

  it("the task list starts with the newest task", async () => {
    await byTestId("tab-tasks").click();
    const newest = submitted.at(-1) as string;
    await byTestId("task-row", { "task-id": newest }).waitFor();
    // The first row is a task created last (tasks submitted in one millisecond tie; the page
    // then keeps the store's order among them).
    const firstId = (await byTestId("task-row").first().getAttribute("data-task-id")) as string;
    const createdAt = async (id: string) => (await api.get(id))?.createdAt ?? Number.NaN;
    expect(await createdAt(firstId)).toBe(await createdAt(newest));
    // 60 tasks, pages of 50: the oldest is not on the first page.
    expect(await byTestId("task-row", { "task-id": submitted[0] as string }).count()).toBe(0);
    await ui?.screenshot("operator-task-list");
  });

  it("the task detail shows the redacted payload and the worker's stack", async () => {
    await byTestId("tab-dlq").click();
    const row = byTestId("dlq-body").locator(`[data-task-id="${declined}"]`);
    await row.waitFor();
    await row.getByRole("button").first().click();
    const detail = byTestId("task-detail");
    await detail.getByTestId("detail-status").filter({ hasText: "failed" }).waitFor();
    const payload = await detail.getByTestId("detail-payload").textContent();
    expect(payload).toContain("INV-1042");
    expect(payload).toContain("**** **** **** 4242");
    expect(payload).not.toContain("4242424242424242");
    const stack = await detail.getByTestId("detail-stack").textContent();
    expect(stack).toMatch(/^PermanentError: card declined for invoice INV-1042\n/);
    expect(stack).toContain("chargeCard");
    expect(await detail.getByTestId("detail-payload-hidden").isVisible()).toBe(false);
    await detail.getByTestId("detail-payload").scrollIntoViewIfNeeded();
    await ui?.screenshot("operator-task-detail");
    expect(ui?.pageErrors).toEqual([]);
  });
});
