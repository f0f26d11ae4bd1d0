/**
 * The dashboard's Flows view in a real browser (Debian's chromium, headless) against a real
 * admin server and a memory-mode TaskManager: a flow opened by id is drawn as its graph (a
 * column per depth, a card per node with its status), a batch with its progress bar.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { type AdminServer, createAdminServer, TaskManager } from "taskmill";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "dashboard-flows-test-token";

let mill: TaskManager;
let server: AdminServer;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

describe("dashboard: flows (headless chromium)", () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)`);
    mill = new TaskManager({ retry: { maxRetries: 0 } });
    mill.register("step", async (payload: { fail?: boolean }) => {
      if (payload?.fail === true) throw new Error("step <b>broke</b>");
      return "ok";
    });
    server = await createAdminServer(mill, {
      host: "127.0.0.1",
      port: 0,
      auth: { tokens: [{ token: TOKEN, role: "read", name: "flows-test" }] },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${server.url}/#flows`);
    await page.locator('[data-testid="token-input"]').fill(TOKEN);
    await page.locator('[data-testid="login-submit"]').click();
    await page.locator('[data-testid="app"]').waitFor();
  });

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await server?.close();
    await mill?.stopNow();
  });

  it("draws a flow as columns of nodes with their statuses, and a batch with its progress", async () => {
    const flow = await mill.submitFlow([
      { ref: "fetch", name: "step", payload: { fail: true } },
      { ref: "thumb", name: "step", dependsOn: ["fetch"] },
      { ref: "notify", name: "step", dependsOn: ["thumb"], onDependencyFailure: "run" },
    ]);
    await flow.result();
    await page.locator('[data-testid="tab-flows"]').click();
    await page.locator('[data-testid="flow-id"]').fill(flow.id);
    await page.locator('[data-testid="flow-form"] button[type="submit"]').click();
    const nodes = page.locator('[data-testid="flow-node"]');
    await expect.poll(() => nodes.count()).toBe(3);
    const card = (ref: string) => page.locator(`[data-testid="flow-node"][data-ref="${ref}"]`);
    expect(await card("fetch").locator(".badge").textContent()).toBe("failed");
    expect(await card("thumb").locator(".badge").textContent()).toBe("cancelled");
    expect(await card("notify").locator(".badge").textContent()).toBe("succeeded");
    // Untrusted text is text, never markup.
    expect(await card("fetch").textContent()).toContain("step <b>broke</b>");
    // One column per depth: fetch, then thumb, then notify.
    expect(await page.locator(".flow-column").count()).toBe(3);

    const batch = await mill.submitBatch([
      { name: "step" },
      { name: "step", payload: { fail: true } },
    ]);
    await batch.result();
    await page.locator('[data-testid="flow-id"]').fill(batch.id);
    await page.locator('[data-testid="flow-form"] button[type="submit"]').click();
    await page.locator('[data-testid="batch-progress"]').waitFor();
    expect(await page.locator('[data-testid="batch-progress"]').textContent()).toContain(
      "2 of 2 items ended",
    );
    await page.locator('[data-testid="flow-id"]').fill("flow-unknown");
    await page.locator('[data-testid="flow-form"] button[type="submit"]').click();
    await expect
      .poll(() => page.locator('[data-testid="flow-message"]').textContent())
      .toContain("No flow or batch");
    expect(pageErrors).toEqual([]);
  });
});
