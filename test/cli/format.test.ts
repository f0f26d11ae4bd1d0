import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/cli/errors.js";
import {
  createStyle,
  formatApiError,
  formatOutcome,
  formatQueues,
  formatResultLine,
  formatTaskTable,
  formatTime,
  shouldUseColor,
  table,
} from "../../src/cli/format.js";
import type { TaskSnapshot } from "../../src/types.js";

const plain = createStyle(false);

function snapshot(overrides: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return {
    id: "t-1",
    name: "email.send",
    queue: "default",
    status: "succeeded",
    priority: 0,
    attempts: 1,
    maxRetries: 3,
    createdAt: Date.UTC(2026, 10, 23, 18, 40, 1, 250),
    ...overrides,
  };
}

describe("colour", () => {
  it("is on only for a terminal without NO_COLOR", () => {
    expect(shouldUseColor({ isTTY: true }, {})).toBe(true);
    expect(shouldUseColor({ isTTY: false }, {})).toBe(false);
    expect(shouldUseColor({}, {})).toBe(false);
    expect(shouldUseColor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(shouldUseColor({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
  });

  it("paints after padding, so columns stay aligned", () => {
    const text = formatTaskTable(
      [snapshot(), snapshot({ id: "t-22", status: "failed" })],
      createStyle(true),
    );
    expect(text).toContain("\x1b[32msucceeded\x1b[0m");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI codes
    const stripped = text.replace(/\x1b\[\d+m/g, "");
    expect(stripped).toBe(
      formatTaskTable([snapshot(), snapshot({ id: "t-22", status: "failed" })], plain),
    );
  });

  it("plain output has no escape codes", () => {
    expect(formatTaskTable([snapshot({ status: "failed" })], plain)).not.toContain("\x1b");
  });
});

describe("table", () => {
  it("aligns columns, right-aligns numbers and trims trailing blanks", () => {
    const rows = [
      { a: "x", n: 5, z: "" },
      { a: "longer", n: 123, z: "end" },
    ];
    const text = table(
      [
        { header: "A", value: (r: (typeof rows)[number]) => r.a },
        { header: "N", value: (r) => String(r.n), align: "right" },
        { header: "Z", value: (r) => r.z },
      ],
      rows,
      plain,
    );
    expect(text.split("\n")).toEqual(["A         N  Z", "x         5", "longer  123  end"]);
  });

  it("replaces control characters from task data", () => {
    const text = formatTaskTable([snapshot({ name: "evil\x1b[2Jname\nx" })], plain);
    expect(text).toContain("evil?[2Jname?x");
    expect(text.split("\n")).toHaveLength(2);
  });
});

describe("formatters", () => {
  it("formats times in UTC to the second", () => {
    expect(formatTime(Date.UTC(2026, 10, 23, 18, 40, 1, 250))).toBe("2026-11-23 18:40:01Z");
    expect(formatTime(undefined)).toBe("-");
  });

  it("lists tasks with a detail column and says so when there are none", () => {
    const text = formatTaskTable(
      [
        snapshot({ value: { ok: true } }),
        snapshot({ id: "t-2", status: "failed", error: { name: "Error", message: "boom" } }),
      ],
      plain,
    );
    const [header, first, second] = text.split("\n");
    expect(header).toMatch(/^ID\s+NAME\s+QUEUE\s+STATUS\s+PRIO\s+ATTEMPTS\s+CREATED\s+DETAIL$/);
    expect(first).toContain('{"ok":true}');
    expect(second).toContain("Error: boom");
    expect(formatTaskTable([], plain)).toBe("No tasks.");
  });

  it("shows queues as paused or active", () => {
    const text = formatQueues(
      [
        { name: "default", depth: 2, waiting: 1, running: 0, paused: true },
        { name: "emails", depth: 0, waiting: 0, running: 3, paused: false, concurrency: 4 },
      ],
      plain,
    );
    expect(text.split("\n")).toEqual([
      "QUEUE    DEPTH  WAITING  RUNNING  CONCURRENCY  STATE",
      "default      2        1        0            -  paused",
      "emails       0        0        3            4  active",
    ]);
  });

  it("says whether a DLQ operation was a dry run, and names ids it did not find", () => {
    const dry = formatOutcome("replay", { ids: ["a", "b"], skipped: [], dryRun: true }, plain, [
      "a",
      "b",
      "zz",
    ]);
    expect(dry).toContain("Would replay 2 dead letters (dry run");
    expect(dry).toContain("--apply");
    expect(dry).toContain("Not in the dead-letter queue (1):\n  zz");
    const done = formatOutcome("purge", { ids: ["a"], skipped: ["b"], dryRun: false }, plain);
    expect(done).toMatch(/^Purged 1 dead letter\.\n {2}a\nSkipped 1/);
  });

  it("prints one line per result", () => {
    const line = formatResultLine(
      {
        id: "t-9",
        name: "email.send",
        queue: "default",
        status: "failed",
        error: { name: "Error", message: "smtp down", code: "ECONNREFUSED" },
        attempts: 3,
        createdAt: 0,
        finishedAt: Date.UTC(2026, 0, 1),
      },
      plain,
    );
    expect(line).toBe(
      "2026-01-01 00:00:00Z  failed     email.send  t-9  attempts=3  Error [ECONNREFUSED]: smtp down",
    );
  });

  it("puts code, field and request id in the error line", () => {
    const error = new ApiError({
      status: 400,
      code: "BAD_REQUEST",
      message: "must be an integer",
      field: "options.priority",
      requestId: "req-1",
    });
    expect(formatApiError(error)).toBe(
      "error: must be an integer (code BAD_REQUEST, HTTP 400, field options.priority, request id req-1)",
    );
  });
});
