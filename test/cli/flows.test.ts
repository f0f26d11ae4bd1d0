/** `taskmill flow get` against a real admin server over a memory-mode manager (built CLI). */
import { TaskManager } from "taskmill";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runCli, startServer, WRITE_TOKEN } from "./harness.js";

let mill: TaskManager;
let server: { url: string; close(): Promise<void> };
let env: Record<string, string>;

beforeAll(async () => {
  assertBuilt();
  mill = new TaskManager({ retry: { maxRetries: 0 } });
  mill.register("echo", async (payload: unknown) => payload);
  mill.register("boom", async () => {
    throw new Error("it broke");
  });
  server = await startServer(mill);
  env = { TASKMILL_URL: server.url, TASKMILL_TOKEN: WRITE_TOKEN };
});

afterAll(async () => {
  await server?.close();
  await mill?.stopNow();
});

describe("flow get", () => {
  it("prints each node's status, dependencies and error; --json prints the flow", async () => {
    const flow = await mill.submitFlow([
      { ref: "fetch", name: "boom" },
      { ref: "resize", name: "echo", dependsOn: ["fetch"] },
      { ref: "notify", name: "echo", dependsOn: ["resize"], onDependencyFailure: "run" },
    ]);
    await flow.result();
    const human = await runCli(["flow", "get", flow.id], env);
    expect(human.stderr).toBe("");
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`flow ${flow.id}  done  3/3 ended`);
    expect(human.stdout).toMatch(/^fetch +failed +boom +- +- +\S+ +it broke$/m);
    expect(human.stdout).toMatch(/^resize +cancelled +echo +fetch +cancel /m);
    expect(human.stdout).toMatch(/^notify +succeeded +echo +resize +run /m);
    const json = await runCli(["flow", "get", flow.id, "--json"], env);
    expect(JSON.parse(json.stdout).flow.nodes.map((n: { ref: string }) => n.ref)).toEqual([
      "fetch",
      "resize",
      "notify",
    ]);
    const missing = await runCli(["flow", "get", "flow-nope"], env);
    expect(missing.code).not.toBe(0);
  });
});
