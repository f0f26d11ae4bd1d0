/**
 * The package as a user gets it: `npm pack`, installed offline into a scratch project, then
 * used from ESM, CommonJS and TypeScript (nodenext and bundler resolution), each running a real
 * task in memory mode under the Node.js that runs this test (CI runs it on several versions).
 * The TypeScript consumers carry a `@ts-expect-error` on a wrong call: if the shipped types
 * were missing or `any`, tsc would fail on the unused directive. Build first (`npm test` does).
 */
import { readFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratch, ROOT, runOk, type Scratch } from "./scratch-project.js";

/** What every consumer program prints: the task's value, its stored status, entry point types. */
const EXPECTED = { value: 5, status: "succeeded", entries: ["function", "function"] };

/** The JS file of a package's `bin` in the repository's node_modules. */
function binOf(pkg: string, name: string): string {
  const dir = join(ROOT, "node_modules", pkg);
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    bin: Record<string, string>;
  };
  const bin = manifest.bin[name];
  if (bin === undefined) throw new Error(`${pkg} has no bin ${name}`);
  return join(dir, bin);
}

/** Runs a consumer program under this process's Node.js; returns its one JSON line. */
async function runConsumer(dir: string, file: string): Promise<unknown> {
  const result = await runOk(process.execPath, [file], dir);
  return JSON.parse(result.stdout.trim());
}

let scratch: Scratch;

beforeAll(async () => {
  scratch = await createScratch();
}, 120_000);

afterAll(() => scratch?.remove());

// tsc over the shipped types takes seconds, more while the rest of the suite runs beside it.
describe(`packaged usage (npm pack + offline install, Node ${process.version})`, {
  timeout: 90_000,
}, () => {
  it("package: the tarball holds dist, src, README, CHANGELOG and LICENSE, and no tests", () => {
    const tops = new Set(scratch.files.map((file) => file.split("/")[0]));
    expect([...tops].sort()).toEqual([
      "CHANGELOG.md",
      "LICENSE",
      "README.md",
      "dist",
      "package.json",
      "src",
    ]);
    expect(scratch.files).toContain("dist/index.js");
    expect(scratch.files).toContain("dist/index.d.ts");
    expect(scratch.files).toContain("dist/admin/dashboard/index.html");
  });

  it("package: every source map in the tarball points at sources the tarball holds", () => {
    const shipped = new Set(scratch.files);
    const maps = scratch.files.filter((file) => file.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(100);
    const missing: string[] = [];
    for (const map of maps) {
      const installed = join(scratch.dir, "node_modules/taskmill", map);
      const { sources } = JSON.parse(readFileSync(installed, "utf8")) as { sources: string[] };
      for (const source of sources) {
        const path = posix.normalize(posix.join(posix.dirname(map), source));
        if (!shipped.has(path)) missing.push(`${map} -> ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("package: ESM `import` of every entry point runs a task to completion", async () => {
    expect(await runConsumer(scratch.dir, "esm-app.mjs")).toEqual(EXPECTED);
  });

  it("package: CommonJS `require()` of every entry point runs a task to completion", async () => {
    expect(await runConsumer(scratch.dir, "cjs-app.cjs")).toEqual(EXPECTED);
  });

  it("package: TypeScript with moduleResolution nodenext (import and require) type-checks and runs", async () => {
    await runOk(
      process.execPath,
      [binOf("typescript", "tsc"), "-p", "tsconfig.nodenext.json"],
      scratch.dir,
    );
    expect(await runConsumer(scratch.dir, "out/nodenext/ts-nodenext.mjs")).toEqual(EXPECTED);
    expect(await runConsumer(scratch.dir, "out/nodenext/ts-nodenext-require.cjs")).toEqual(
      EXPECTED,
    );
  });

  it("package: TypeScript with moduleResolution bundler type-checks and runs", async () => {
    await runOk(
      process.execPath,
      [binOf("typescript", "tsc"), "-p", "tsconfig.bundler.json"],
      scratch.dir,
    );
    expect(await runConsumer(scratch.dir, "out/bundler/ts-bundler.js")).toEqual(EXPECTED);
  });

  it("package: the installed `taskmill` bin starts", async () => {
    const result = await runOk(
      process.execPath,
      [join(scratch.dir, "node_modules/.bin/taskmill"), "--help"],
      scratch.dir,
    );
    expect(result.stdout).toContain("Usage: taskmill");
  });

  it("package: attw and publint find no problem in the tarball", async () => {
    const tarball = join(scratch.dir, scratch.tarball);
    // The same rules as `npm run check:package` (see the CHANGELOG for why these two).
    await runOk(
      process.execPath,
      [
        binOf("@arethetypeswrong/cli", "attw"),
        tarball,
        "--profile",
        "node16",
        "--ignore-rules",
        "cjs-resolves-to-esm",
        "--no-definitely-typed",
      ],
      dirname(tarball),
    );
    const publint = await runOk(
      process.execPath,
      [binOf("publint", "publint"), "run", tarball, "--strict"],
      dirname(tarball),
    );
    expect(publint.stdout).toContain("All good!");
  });
});
