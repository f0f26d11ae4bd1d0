import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli } from "./harness.js";

/** Each command and the options its help must name. */
const COMMANDS: readonly (readonly [string, readonly string[]])[] = [
  ["", ["--url", "--token", "--json", "--timeout-ms", "TASKMILL_URL", "TASKMILL_TOKEN"]],
  ["submit", ["--payload-file", "--queue", "--priority", "--delay-ms", "--idempotency-key"]],
  ["get", []],
  ["list", ["--status", "--queue", "--name", "--limit", "--cursor", "--all"]],
  ["cancel", []],
  ["queues", []],
  ["pause", []],
  ["resume", []],
  ["stats", []],
  ["schedules", []],
  ["dlq", ["list", "replay", "purge"]],
  ["dlq list", ["--name", "--limit", "--cursor"]],
  ["dlq replay", ["--ids", "--name", "--apply", "--reset-attempts", "--no-reset-attempts"]],
  ["dlq purge", ["--ids", "--name", "--apply"]],
  ["tail", ["--name", "--status", "--count"]],
];

describe("taskmill --help", () => {
  beforeAll(assertBuilt);

  it.each(COMMANDS)(
    "'%s --help' exits 0 and names its options and examples",
    async (command, options) => {
      const args = command === "" ? [] : command.split(" ");
      const result = await runCli([...args, "--help"]);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe("");
      expect(result.stdout).toContain(`Usage: taskmill ${command}`.trimEnd());
      expect(result.stdout).toMatch(/Examples:\n {2}\$ \S/);
      for (const option of options) expect(result.stdout).toContain(option);
    },
  );

  it("a command without its subcommand or an unknown command is a usage error (2)", async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage: taskmill");
    const unknown = await runCli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const missing = await runCli(["get"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'id'");
  });

  it("prints the package version", async () => {
    const result = await runCli(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
