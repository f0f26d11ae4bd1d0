/**
 * The import graph of src/ as a design rule: no cycles (type-only imports included: a type
 * cycle is a cycle in the design even when the compiler erases it), and the layer rules below.
 * dpdm parses the files (with tsconfig.json's resolution); type imports count because its
 * `transform` option stays off.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type DependencyTree, parseCircular, parseDependencyTree } from "dpdm";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** An import of `to` by `from`, both paths relative to the repository root. */
interface Edge {
  readonly from: string;
  readonly to: string;
}

interface AllowedEdge extends Edge {
  /** The change that cuts the cycle; whoever makes it deletes the entry. */
  readonly fix: string;
}

/**
 * Imports that close a cycle today, left in place only because the cut belongs in a file
 * someone else is rewriting. Each entry names the change that removes it. An entry that no
 * longer closes a cycle fails the test, so delete it together with that change.
 */
const ALLOWED_CYCLE_EDGES: readonly AllowedEdge[] = [];

/** Folders that must not import from other folders: direct imports, type-only included. */
const LAYER_RULES: readonly { from: string; notFrom: string; why: string }[] = [
  {
    from: "src/scheduling/",
    notFrom: "src/lifecycle/",
    why: "scheduling works on interfaces it defines (DispatchTask, ReadyEntry); stores/memory/task-dispatcher.ts binds it to task records",
  },
  {
    from: "src/retry/",
    notFrom: "src/lifecycle/",
    why: "retry decisions read a RetryState ({ attempts, retry }), which a TaskRecord satisfies",
  },
  {
    from: "src/admin/",
    notFrom: "src/stores/redis/",
    why: "the admin talks to a TaskManager whatever its backend (ioredis stays optional)",
  },
  {
    from: "src/engine/",
    notFrom: "src/stores/redis/",
    why: "the engine talks to durable stores through the port (stores/durable-store.ts) and picks one in stores/connect.ts",
  },
  {
    from: "src/engine/",
    notFrom: "src/stores/memory/",
    why: "the memory store feeds the engine's executor; the engine never reaches into it",
  },
  {
    from: "src/stores/",
    notFrom: "src/engine/durable/",
    why: "stores record what the durable engine decides; they never depend on it",
  },
];

let tree: DependencyTree;
/** Every src/ -> src/ import, once per pair of files. */
let edges: Edge[];

beforeAll(async () => {
  tree = await parseDependencyTree(["src/**/*.ts"], {
    cwd: ROOT,
    context: ROOT,
    tsconfig: join(ROOT, "tsconfig.json"),
    transform: false,
    skipDynamicImports: false,
  });
  const seen = new Set<string>();
  edges = [];
  for (const [from, deps] of Object.entries(tree)) {
    if (!from.startsWith("src/")) continue;
    for (const dep of deps ?? []) {
      const to = dep.id;
      if (to === null || !to.startsWith("src/") || seen.has(`${from} ${to}`)) continue;
      seen.add(`${from} ${to}`);
      edges.push({ from, to });
    }
  }
}, 60_000);

describe("src/ import graph", () => {
  it("resolves every relative import, so no edge is silently missing", () => {
    const unresolved = Object.values(tree)
      .flatMap((deps) => deps ?? [])
      .filter((dep) => dep.request.startsWith(".") && dep.id === null)
      .map((dep) => `${dep.issuer}: ${dep.request}`);
    expect(unresolved).toEqual([]);
  });

  it("counts type-only imports", () => {
    const typeImports = sourceFiles().flatMap((file) =>
      [
        ...readFileSync(join(ROOT, file), "utf8").matchAll(
          /^import type [^;]*? from "(\.[^"]+)"/gm,
        ),
      ].map((match) => `${file} ${match[1]}`),
    );
    expect(typeImports.length).toBeGreaterThan(50);
    const requests = new Set(
      Object.entries(tree).flatMap(([file, deps]) =>
        (deps ?? []).map((dep) => `${file} ${dep.request}`),
      ),
    );
    expect(typeImports.filter((line) => !requests.has(line))).toEqual([]);
  });

  it("has no cycles, but for the allowed edges", () => {
    const allowed = new Set(ALLOWED_CYCLE_EDGES.map(key));
    const pruned: DependencyTree = {};
    for (const [file, deps] of Object.entries(tree))
      pruned[file] =
        deps?.filter((dep) => dep.id === null || !allowed.has(key({ from: file, to: dep.id }))) ??
        null;
    const cycles = parseCircular(pruned).map((cycle) => [...cycle, cycle[0]].join(" -> "));
    expect(cycles, "import cycles in src/ (type-only imports count)").toEqual([]);
  });

  it("allows only edges that still close a cycle", () => {
    const stale = ALLOWED_CYCLE_EDGES.filter(
      (edge) => !edges.some((e) => key(e) === key(edge)) || !reaches(edge.to, edge.from),
    ).map((edge) => `${key(edge)}: no longer a cycle, delete its ALLOWED_CYCLE_EDGES entry`);
    expect(stale).toEqual([]);
  });

  it.each(LAYER_RULES)("$from imports nothing from $notFrom", ({ from, notFrom, why }) => {
    const violations = edges
      .filter((edge) => edge.from.startsWith(from) && edge.to.startsWith(notFrom))
      .map(key);
    expect(violations, why).toEqual([]);
  });

  it("has no @dpdm-ignore comments (they would hide an import from these checks)", () => {
    const ignored = sourceFiles().filter((file) =>
      readFileSync(join(ROOT, file), "utf8").includes("@dpdm-ignore"),
    );
    expect(ignored).toEqual([]);
  });
});

function key(edge: Edge): string {
  return `${edge.from} -> ${edge.to}`;
}

/** Whether `target` can be reached from `start` along src/ imports. */
function reaches(start: string, target: string): boolean {
  const seen = new Set([start]);
  const stack = [start];
  for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
    for (const edge of edges) {
      if (edge.from !== file || seen.has(edge.to)) continue;
      if (edge.to === target) return true;
      seen.add(edge.to);
      stack.push(edge.to);
    }
  }
  return false;
}

/** The .ts files under src/, relative to the repository root. */
function sourceFiles(): string[] {
  return readdirSync(join(ROOT, "src"), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => relative(ROOT, join(ROOT, "src", name)));
}
