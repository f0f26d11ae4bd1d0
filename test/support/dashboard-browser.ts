/**
 * The dashboard in Debian's chromium (headless, never a downloaded browser) for the dashboard
 * tests: one page at 1280x800 in a fixed locale and time zone, so screenshots are stable, with
 * the page's errors collected and a screenshot folder that is docs/images/ only when
 * TASKMILL_SCREENSHOT=1 (a temp dir otherwise, so test runs never dirty the tree).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
const UI_TIMEOUT = 10_000;

/** A browser page on the dashboard, and what the test needs around it. */
export interface DashboardBrowser {
  readonly browser: Browser;
  readonly page: Page;
  /** Where `screenshot()` writes. */
  readonly shotDir: string;
  /** Uncaught errors the page threw. */
  readonly pageErrors: string[];
  /** `[data-testid=...]`, optionally narrowed by `data-<key>="value"` attributes. */
  byTestId(testId: string, attributes?: Record<string, string>): Locator;
  /** Fills the sign-in form with `token` and waits for the app. */
  signIn(token: string): Promise<void>;
  /** Writes `<shotDir>/<name>.png`; returns its path. */
  screenshot(name: string): Promise<string>;
  /** Closes the browser and removes a temporary screenshot folder. */
  close(): Promise<void>;
}

/** Launches chromium on `url` (the dashboard, optionally with a `#view`). */
export async function openDashboard(url: string, label: string): Promise<DashboardBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    colorScheme: "light",
    locale: "en-GB",
    timezoneId: "UTC",
  });
  context.setDefaultTimeout(UI_TIMEOUT);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  const keepShots = process.env.TASKMILL_SCREENSHOT === "1";
  const shotDir = keepShots
    ? fileURLToPath(new URL("../../docs/images/", import.meta.url))
    : mkdtempSync(join(tmpdir(), `taskmill-${label}-shots-`));
  mkdirSync(shotDir, { recursive: true });
  await page.goto(url);
  const byTestId = (testId: string, attributes: Record<string, string> = {}): Locator =>
    page.locator(
      `[data-testid="${testId}"]${Object.entries(attributes)
        .map(([key, value]) => `[data-${key}="${value}"]`)
        .join("")}`,
    );
  return {
    browser,
    page,
    shotDir,
    pageErrors,
    byTestId,
    async signIn(token) {
      await byTestId("token-input").fill(token);
      await byTestId("login-submit").click();
      await byTestId("app").waitFor();
    },
    async screenshot(name) {
      const path = join(shotDir, `${name}.png`);
      await page.screenshot({ path });
      return path;
    },
    async close() {
      await context.close().catch(() => {});
      await browser.close().catch(() => {});
      if (!keepShots) rmSync(shotDir, { recursive: true, force: true });
    },
  };
}
