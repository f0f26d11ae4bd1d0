/**
 * The dashboard in a real browser (Debian's chromium, headless) against a real admin server
 * and a real TaskManager: sign-in, the task list, a live result, the task detail, queue
 * pause/resume and a dead-letter replay done by clicking (dry run, then confirm).
 *
 * Set TASKMILL_SCREENSHOT=1 to write docs/images/dashboard.png (1280x800); otherwise the
 * screenshot goes to a temp dir so test runs never dirty the tree.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
} from "playwright-core";
import {
  type AdminServer,
  createAdminHandler,
  createAdminServer,
  PermanentError,
  type TaskContext,
  TaskManager,
} from "taskmill";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "dashboard-test-write-token";
const READ_TOKEN = "dashboard-test-read-token";
const UI_TIMEOUT = 10_000;

let mill: TaskManager;
let server: AdminServer;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page: Page;
let shotDir: string;
const pageErrors: string[] = [];
const consoleErrors: string[] = [];
const foreignRequests: string[] = [];
const assetRequests = new Set<string>();
let declineNextCharge = true;

/** Submits through the admin API, as an operator's script would. */
async function submitViaApi(name: string, payload: unknown, options?: unknown): Promise<string> {
  const response = await fetch(`${server.url}/v1/tasks`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name, payload, options }),
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { task: { id: string } };
  return body.task.id;
}

const byTestId = (testId: string, attributes: Record<string, string> = {}): Locator =>
  page.locator(
    `[data-testid="${testId}"]${Object.entries(attributes)
      .map(([key, value]) => `[data-${key}="${value}"]`)
      .join("")}`,
  );

/** The token the page keeps (the test's tsconfig has no DOM types, hence the string). */
const storedToken = () => page.evaluate<string | null>("sessionStorage.getItem('taskmill.token')");

async function signIn(token: string): Promise<void> {
  await byTestId("token-input").fill(token);
  await byTestId("login-submit").click();
  await byTestId("app").waitFor();
}

async function isDeadLetter(id: string): Promise<boolean> {
  const dlq = await mill.dlq.list({ limit: 1000 });
  return dlq.tasks.some((task) => task.id === id);
}

describe("dashboard (headless chromium)", () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: the dashboard test needs Debian's chromium (apt-get install chromium; .ci/run installs it)`,
      );
    mill = new TaskManager({ concurrency: 4, retry: { maxRetries: 0 } });
    mill.register("email.send", async (payload: { to: string }) => ({ delivered: payload.to }), {
      queue: "email",
    });
    mill.register(
      "invoice.charge",
      async (payload: { amount: number }) => {
        if (declineNextCharge) {
          declineNextCharge = false;
          throw new PermanentError("card declined <b>do-not-render</b>");
        }
        return { charged: payload.amount };
      },
      { queue: "payments" },
    );
    // Runs until cancelled: gives the screenshot a running task and the detail a cancel button.
    mill.register(
      "report.build",
      (_payload: unknown, ctx: TaskContext) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
        }),
      { queue: "reports" },
    );
    server = await createAdminServer(mill, {
      host: "127.0.0.1",
      port: 0,
      auth: {
        tokens: [
          { token: TOKEN, role: "write", name: "dashboard-test" },
          { token: READ_TOKEN, role: "read", name: "dashboard-test-read" },
        ],
      },
    });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      deviceScaleFactor: 1,
      colorScheme: "light",
      locale: "en-GB",
      timezoneId: "UTC",
    });
    context.setDefaultTimeout(UI_TIMEOUT);
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      // The browser logs every 4xx response; the 401/403 steps below cause some on purpose.
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource"))
        consoleErrors.push(message.text());
    });
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(`${server.url}/`) && !url.startsWith("data:")) foreignRequests.push(url);
      else if (url.startsWith(`${server.url}/assets/`))
        assetRequests.add(url.slice(`${server.url}/assets/`.length));
    });

    shotDir =
      process.env.TASKMILL_SCREENSHOT === "1"
        ? fileURLToPath(new URL("../../docs/images/", import.meta.url))
        : mkdtempSync(join(tmpdir(), "taskmill-dashboard-"));
    mkdirSync(shotDir, { recursive: true });
  });

  afterAll(async () => {
    // Each step on its own: one failing must not leave the others running.
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.close();
    await mill?.stopNow();
    if (process.env.TASKMILL_SCREENSHOT !== "1" && shotDir)
      rmSync(shotDir, { recursive: true, force: true });
  });

  it("asks for the token, refuses a wrong one and signs in with the right one", async () => {
    await page.goto(`${server.url}/`);
    await byTestId("login-form").waitFor();
    expect(await byTestId("app").isVisible()).toBe(false);

    await byTestId("token-input").fill("not-the-token");
    await byTestId("login-submit").click();
    await byTestId("login-error").filter({ hasText: "not accepted" }).waitFor();

    await signIn(TOKEN);
    expect(await storedToken()).toBe(TOKEN);
    await byTestId("live-status", { state: "open" }).waitFor();
  });

  it("shows a task submitted through the API in the task list", async () => {
    await byTestId("tab-tasks").click();
    const id = await submitViaApi("email.send", { to: "ada@example.com" });
    await byTestId("task-row", { "task-id": id, status: "succeeded" }).waitFor();
    const row = byTestId("task-row", { "task-id": id });
    expect(await row.textContent()).toContain("email.send");
  });

  it("shows a live result as it arrives", async () => {
    await byTestId("tab-live").click();
    const task = await mill.submit("email.send", { to: "grace@example.com" }, { priority: 2 });
    await task.result();
    const row = byTestId("live-row", { "task-id": task.id, status: "succeeded" });
    await row.waitFor();
    expect(await row.textContent()).toContain("grace@example.com");
  });

  it("replays a dead letter from the Dead letters view: dry run first, then confirm", async () => {
    const task = await mill.submit("invoice.charge", { amount: 42 });
    await expect(task.result()).rejects.toBeInstanceOf(PermanentError);
    await expect.poll(() => isDeadLetter(task.id)).toBe(true);

    await byTestId("tab-dlq").click();
    const row = byTestId("dlq-row", { "task-id": task.id });
    await row.waitFor();
    // The error message is data, not markup.
    expect(await row.locator("b").count()).toBe(0);
    expect(await row.textContent()).toContain("card declined <b>do-not-render</b>");

    await row.getByTestId("dlq-select").check();
    await byTestId("dlq-replay").click();
    const preview = byTestId("dlq-preview");
    await preview.filter({ hasText: "1 task would be replayed" }).waitFor();
    expect(await byTestId("dlq-preview-ids").textContent()).toContain(task.id);
    // The dry run changed nothing.
    expect((await mill.get(task.id))?.status).toBe("failed");
    expect(await isDeadLetter(task.id)).toBe(true);

    await byTestId("dlq-confirm").click();
    await byTestId("dlq-message").filter({ hasText: "Replayed 1 task" }).waitFor();
    await expect.poll(async () => (await mill.get(task.id))?.status).toBe("succeeded");
    expect(await isDeadLetter(task.id)).toBe(false);
    await row.waitFor({ state: "detached" });
    // The replayed run arrives as a live result too.
    await byTestId("tab-live").click();
    await byTestId("live-row", { "task-id": task.id, status: "succeeded" }).waitFor();
  });

  it("opens a task's detail with its timeline and cancels a running task from it", async () => {
    const report = await mill.submit("report.build", { month: "2026-10" });
    await expect.poll(async () => (await mill.get(report.id))?.status).toBe("running");

    await byTestId("tab-tasks").click();
    await byTestId("task-row", { "task-id": report.id, status: "running" }).click();
    const detail = byTestId("task-detail");
    await detail.waitFor();
    await detail.getByTestId("detail-status").filter({ hasText: "running" }).waitFor();
    expect(await detail.getByTestId("task-timeline").textContent()).toContain(
      "First attempt started",
    );

    await detail.getByTestId("task-cancel").click();
    await detail.getByTestId("detail-status").filter({ hasText: "cancelled" }).waitFor();
    expect((await mill.get(report.id))?.status).toBe("cancelled");
    expect(await detail.getByTestId("task-timeline").textContent()).toContain(
      "Finished: cancelled",
    );
    await detail.getByTestId("detail-close").click();
    await detail.waitFor({ state: "hidden" });
  });

  it("pauses and resumes a queue", async () => {
    await byTestId("tab-queues").click();
    const row = byTestId("queue-row", { queue: "email" });
    await row.getByTestId("queue-pause").click();
    await row.getByTestId("queue-resume").waitFor();
    expect((await mill.queues()).find((q) => q.name === "email")?.paused).toBe(true);
    await row.getByTestId("queue-resume").click();
    await row.getByTestId("queue-pause").waitFor();
    expect((await mill.queues()).find((q) => q.name === "email")?.paused).toBe(false);
  });

  it("makes no request outside its server, throws no page error, and takes the screenshot", async () => {
    // A scene for the picture: finished tasks, a dead letter, one running, one scheduled.
    const finished = [
      mill.submit("email.send", { to: "lin@example.com" }),
      mill.submit("invoice.charge", { amount: 120 }),
      mill.submit("email.send", { to: "sam@example.com" }, { priority: 5 }),
      mill.submit("invoice.charge", { amount: 75 }),
      mill.submit("email.send", { to: "kim@example.com" }),
    ];
    for (const task of finished) await (await task).result();
    declineNextCharge = true;
    const declined = await mill.submit("invoice.charge", { amount: 990 });
    await expect(declined.result()).rejects.toBeInstanceOf(PermanentError);
    await mill.submit("report.build", { month: "2026-11" });
    await mill.submit("email.send", { to: "later@example.com" }, { delayMs: 3_600_000 });
    await byTestId("tab-tasks").click();
    await byTestId("task-row", { status: "scheduled" }).waitFor();
    await byTestId("task-row", { status: "running" }).waitFor();
    await byTestId("task-row", { "task-id": declined.id, status: "failed" }).waitFor();
    await byTestId("stat-running").filter({ hasText: "1" }).waitFor();
    await byTestId("stat-deadLetters").filter({ hasText: "1" }).waitFor();
    await page.screenshot({ path: join(shotDir, "dashboard.png") });

    expect(foreignRequests).toEqual([]);
    // Every module of the split dashboard was loaded, from /assets/<its path>.
    const dashboardDir = fileURLToPath(new URL("../../src/admin/dashboard/", import.meta.url));
    const modules = readdirSync(dashboardDir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith(".js"))
      .map((entry) =>
        relative(dashboardDir, join(entry.parentPath, entry.name)).split("\\").join("/"),
      );
    expect(modules).toContain("views/tasks.js");
    expect([...assetRequests].filter((path) => path.endsWith(".js")).sort()).toEqual(
      modules.sort(),
    );
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]); // e.g. a Content-Security-Policy violation
  });

  it("hides write actions once a read-only token is refused one (403)", async () => {
    await byTestId("logout").click();
    await byTestId("login-form").waitFor();
    expect(await storedToken()).toBeNull();
    await signIn(READ_TOKEN);
    await byTestId("tab-queues").click();
    const row = byTestId("queue-row", { queue: "email" });
    await row.getByTestId("queue-pause").click();
    await byTestId("role-badge").waitFor();
    await row.getByTestId("queue-pause").waitFor({ state: "hidden" });
    expect((await mill.queues()).find((q) => q.name === "email")?.paused).toBe(false);
  });

  it("brings the sign-in form back on a 401", async () => {
    await page.evaluate("sessionStorage.setItem('taskmill.token', 'revoked')");
    await page.reload();
    await byTestId("login-error").filter({ hasText: "rejected" }).waitFor();
    expect(await storedToken()).toBeNull();
  });

  it("works mounted under a prefix, reached without the trailing slash (Express-style mount)", async () => {
    // What Express does for app.use("/admin", handler): strip the prefix from req.url and keep
    // the whole URL in req.originalUrl.
    const admin = createAdminHandler(mill, {
      auth: { tokens: [{ token: TOKEN, role: "write", name: "dashboard-test" }] },
    });
    const app: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? "/";
      if (url === "/admin" || url.startsWith("/admin/") || url.startsWith("/admin?")) {
        Object.assign(req, { originalUrl: url });
        const rest = url.slice("/admin".length);
        req.url = rest.startsWith("/") ? rest : `/${rest}`;
        admin(req, res);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    const mounted = await context?.newPage();
    try {
      if (mounted === undefined) throw new Error("no browser context");
      const errors: string[] = [];
      mounted.on("pageerror", (error) => errors.push(error.message));
      const base = `http://127.0.0.1:${(app.address() as { port: number }).port}`;
      await mounted.goto(`${base}/admin`);
      expect(new URL(mounted.url()).pathname).toBe("/admin/");
      await mounted.locator('[data-testid="token-input"]').fill(TOKEN);
      await mounted.locator('[data-testid="login-submit"]').click();
      await mounted.locator('[data-testid="app"]').waitFor();
      await mounted.locator('[data-testid="live-status"][data-state="open"]').waitFor();
      await mounted.locator('[data-testid="tab-queues"]').click();
      await mounted.locator('[data-testid="queue-row"][data-queue="email"]').waitFor();
      expect(errors).toEqual([]);
    } finally {
      await mounted?.close();
      admin.close();
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    }
  });
});
