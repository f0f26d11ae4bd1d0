/**
 * The dashboard's Audit tab in a real browser (Debian's chromium, headless) against a real
 * admin server on a real Redis: the writes made through the API (applied, dry run, refused)
 * show newest first with who, what and outcome; "Verify chain" recomputes the chain in the
 * browser and reports it intact, then names the record once it is edited in Redis.
 *
 * Set TASKMILL_SCREENSHOT=1 to write docs/images/audit.png (1280x800); otherwise the
 * screenshot goes to a temp dir so test runs never dirty the tree.
 */
import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { type AdminServer, createAdminServer, TaskManager } from "taskmill";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useRedis } from "../stores/redis/fixture.js";
import { type DashboardBrowser, openDashboard } from "../support/dashboard-browser.js";

const TOKEN = "audit-test-write-token-0123";
const READ_TOKEN = "audit-test-read-token-0123";

const redis = useRedis();
const prefix = `dash-audit-${randomUUID().slice(0, 8)}`;
let mill: TaskManager;
let server: AdminServer;
let ui: DashboardBrowser | undefined;
let page: Page;

async function write(path: string, token: string, body?: unknown): Promise<number> {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
  await response.arrayBuffer();
  return response.status;
}

const byTestId = (testId: string) => page.locator(`[data-testid="${testId}"]`);

describe("dashboard Audit tab (headless chromium)", () => {
  beforeAll(async () => {
    mill = new TaskManager({ backend: { type: "redis", url: redis.server().url, prefix } });
    mill.register("email.send", async () => "sent", { queue: "email" });
    server = await createAdminServer(mill, {
      auth: {
        tokens: [
          { token: TOKEN, role: "write", name: "alice@ops" },
          { token: READ_TOKEN, role: "read", name: "bob@support" },
        ],
      },
    });
    // Signed in by the test, after its writes: the Audit tab then loads them.
    ui = await openDashboard(`${server.url}/#audit`, "audit");
    page = ui.page;
  });

  afterAll(async () => {
    await ui?.close();
    await server?.close();
    await mill?.stopNow();
  });

  it("lists the writes newest first, verifies the chain in the browser, and names an edited record", async () => {
    expect(await write("/v1/queues/email/pause", TOKEN)).toBe(200);
    expect(await write("/v1/tasks", TOKEN, { name: "email.send", payload: { to: "x" } })).toBe(201);
    expect(await write("/v1/queues/email/resume", READ_TOKEN)).toBe(403);
    expect(await write("/v1/dlq/replay", TOKEN, { name: "email.send", dryRun: true })).toBe(200);
    expect(await write("/v1/queues/email/resume", TOKEN)).toBe(200);

    await byTestId("token-input").fill(TOKEN);
    await byTestId("login-submit").click();
    await byTestId("view-audit").waitFor();
    await expect.poll(() => byTestId("audit-row").count()).toBe(5);
    const rows = await byTestId("audit-row").allInnerTexts();
    expect(rows[0]).toMatch(
      /^5\b[\s\S]*alice@ops · write[\s\S]*POST \/v1\/queues\/:name\/resume[\s\S]*email[\s\S]*applied 200/,
    );
    expect(rows[1]).toMatch(/dry-run 200/);
    expect(rows[1]).toContain("name=email.send");
    expect(rows[2]).toMatch(/bob@support · read[\s\S]*refused 403 FORBIDDEN/);
    expect(rows[4]).toMatch(/^1\b[\s\S]*POST \/v1\/queues\/:name\/pause/);
    expect(await byTestId("audit-summary").innerText()).toBe("5 records shown");

    await byTestId("audit-verify").click();
    await expect
      .poll(() => byTestId("audit-verdict").innerText())
      .toBe("Chain intact: 5 records verified (records 1 to 5).");
    await ui?.screenshot("audit");

    const client = redis.client();
    const key = `{${prefix}}:audit`;
    const [member] = await client.zrangebyscore(key, 3, 3);
    await client.zrem(key, member as string);
    await client.zadd(key, 3, JSON.stringify({ ...JSON.parse(member as string), status: 200 }));
    await byTestId("audit-verify").click();
    await expect
      .poll(() => byTestId("audit-verdict").innerText())
      .toBe("Record 3 was altered: its hash does not match.");
    expect(ui?.pageErrors).toEqual([]);
  });
});
