import { describe, expect, it } from "vitest";
import { closure, type Lockfile, resolveIn, scratchProject } from "./lock-subset.js";

/** A lock laid out as npm does when two versions of `b` are needed. */
const LOCK: Lockfile = {
  lockfileVersion: 3,
  packages: {
    "": { name: "repo" },
    "node_modules/a": { version: "1.0.0", dependencies: { b: "^2.0.0", c: "^1.0.0" } },
    "node_modules/a/node_modules/b": { version: "2.1.0", dev: true },
    "node_modules/b": { version: "1.0.0" },
    "node_modules/c": {
      version: "1.0.0",
      peerDependencies: { b: "^1.0.0", "@s/opt": "*" },
      peerDependenciesMeta: { "@s/opt": { optional: true } },
      optionalDependencies: { "native-linux": "1.0.0", "native-darwin": "1.0.0" },
    },
    "node_modules/native-linux": { version: "1.0.0", optional: true },
    "node_modules/@s/opt": { version: "1.0.0" },
    "node_modules/unused": { version: "1.0.0" },
  },
};

describe("package test support: lockfile subset", () => {
  it("resolves a name from the nearest node_modules, walking up", () => {
    expect(resolveIn(LOCK, "node_modules/a", "b")).toBe("node_modules/a/node_modules/b");
    expect(resolveIn(LOCK, "node_modules/c", "b")).toBe("node_modules/b");
    expect(resolveIn(LOCK, "node_modules/a/node_modules/b", "c")).toBe("node_modules/c");
    expect(resolveIn(LOCK, "", "missing")).toBeUndefined();
  });

  it("keeps what the roots need: dependencies, required peers, optionals that are locked", () => {
    expect([...closure(LOCK, ["a"]).keys()].sort()).toEqual([
      "node_modules/a",
      "node_modules/a/node_modules/b",
      "node_modules/b",
      "node_modules/c",
      "node_modules/native-linux",
    ]);
  });

  it("refuses a dependency the lock does not have", () => {
    const lock: Lockfile = {
      lockfileVersion: 3,
      packages: { "node_modules/a": { version: "1.0.0", dependencies: { gone: "1" } } },
    };
    expect(() => closure(lock, ["a"])).toThrow(/gone \(needed by node_modules\/a\) is not locked/);
  });

  it("writes the tarball and the extras as the scratch project's dependencies, dev flags dropped", () => {
    const { packageJson, packageLock } = scratchProject(LOCK, {
      tarball: "taskmill-1.0.0.tgz",
      integrity: "sha512-x",
      manifest: { version: "1.0.0", dependencies: { a: "^1.0.0" } },
      extra: ["unused"],
    });
    expect(packageJson).toMatchObject({
      dependencies: { taskmill: "file:taskmill-1.0.0.tgz", unused: "1.0.0" },
    });
    const packages = (packageLock as { packages: Record<string, Record<string, unknown>> })
      .packages;
    expect(packages["node_modules/taskmill"]).toMatchObject({
      resolved: "file:taskmill-1.0.0.tgz",
      integrity: "sha512-x",
      dependencies: { a: "^1.0.0" },
    });
    expect(packages["node_modules/unused"]).toEqual({ version: "1.0.0" });
    expect(packages["node_modules/a/node_modules/b"]).toEqual({ version: "2.1.0" });
  });
});
