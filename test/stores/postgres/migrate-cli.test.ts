/** `taskmill migrate` against a real PostgreSQL server: status, apply, idempotent re-run. */
import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/cli/program.js";
import { SCHEMA_VERSION } from "../../../src/stores/postgres/migrations.js";
import { usePostgres } from "./fixture.js";

const pgf = usePostgres();

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(["node", "taskmill", ...args], {
    stdout: {
      write: (text: string) => {
        out += text;
        return true;
      },
    },
    stderr: {
      write: (text: string) => {
        err += text;
        return true;
      },
    },
    env: {},
  });
  return { code, out, err };
}

describe("taskmill migrate", () => {
  it("reports, applies, and is a no-op the second time; a manager with migrate: false then starts", async () => {
    const schema = pgf.schema();
    const url = pgf.server().url;
    const before = await cli("migrate", "--database-url", url, "--schema", schema, "--status");
    expect(before).toMatchObject({ code: 0 });
    expect(before.out).toContain(`version 0, this taskmill needs ${SCHEMA_VERSION}`);
    const first = await cli("migrate", "--database-url", url, "--schema", schema);
    expect(first.code).toBe(0);
    expect(first.out).toContain(`version 0 -> ${SCHEMA_VERSION}`);
    const again = await cli("migrate", "--database-url", url, "--schema", schema);
    expect(again.out).toContain("up to date");

    const mill = pgf.manager({ backend: { ...pgf.backend(schema), migrate: false } });
    mill.register("ok", () => "fine");
    expect(await (await mill.submit("ok")).result()).toBe("fine");
  });

  it("refuses a bad schema name as a usage error (2) and an unreachable database with 3", async () => {
    const bad = await cli("migrate", "--database-url", pgf.server().url, "--schema", "Bad-Name");
    expect(bad.code).toBe(2);
    const down = await cli("migrate", "--database-url", "postgres://postgres@127.0.0.1:1/x");
    expect(down.code).toBe(3);
  });
});
