/**
 * `submitFlow`'s checks, which need no store: the shape of every node, its options, and the
 * graph itself (duplicate refs, unknown refs, cycles). They run before anything is stored, so a
 * bad node anywhere means no task of the flow exists, in every store.
 */
import { InvalidArgumentError } from "../errors.js";
import { NO_SUBMIT_OPTIONS, validateSubmitOptions } from "../submit-options.js";
import type { SubmitOptions } from "../types.js";
import type { DependencyFailurePolicy, FlowNode } from "./flow-types.js";

/** Most nodes one flow holds (one atomic store operation must stay bounded). */
export const FLOW_MAX_NODES = 10_000;

/** A node after the checks: defaults filled in, dependencies as indexes. */
export interface CheckedNode {
  readonly index: number;
  readonly ref: string;
  readonly name: string;
  readonly payload: unknown;
  readonly options: SubmitOptions;
  /** Dependency refs, duplicates removed, in the order given. */
  readonly dependsOn: readonly string[];
  /** The same, as indexes into the flow's nodes. */
  readonly dependencies: readonly number[];
  /** Indexes of the nodes that depend on this one. */
  readonly dependents: number[];
  readonly onDependencyFailure: DependencyFailurePolicy;
}

/** Options a node cannot take: a node's identity is its flow's, and the flow is one write. */
const NODE_FORBIDDEN_OPTIONS = ["idempotencyKey", "signal", "tx"] as const;

/**
 * Checks a flow and returns its nodes in the order given.
 *
 * @throws InvalidArgumentError naming the node and field (`nodes[2].dependsOn`), a duplicate
 *   ref, an unknown ref, or a cycle (`a -> b -> a`).
 */
export function checkFlow(nodes: readonly FlowNode[]): CheckedNode[] {
  if (!Array.isArray(nodes)) throw new InvalidArgumentError("nodes", "must be an array", nodes);
  if (nodes.length === 0)
    throw new InvalidArgumentError("nodes", "must hold at least one node", nodes);
  if (nodes.length > FLOW_MAX_NODES)
    throw new InvalidArgumentError(
      "nodes",
      `must hold at most ${FLOW_MAX_NODES} nodes`,
      nodes.length,
    );
  const indexOf = new Map<string, number>();
  nodes.forEach((node, i) => {
    if (typeof node !== "object" || node === null)
      throw new InvalidArgumentError(`nodes[${i}]`, "must be an object", node);
    if (typeof node.ref !== "string" || node.ref.length === 0)
      throw new InvalidArgumentError(`nodes[${i}].ref`, "must be a non-empty string", node.ref);
    const earlier = indexOf.get(node.ref);
    if (earlier !== undefined)
      throw new InvalidArgumentError(
        `nodes[${i}].ref`,
        `must be unique: duplicate ref "${node.ref}" (also nodes[${earlier}])`,
        node.ref,
      );
    indexOf.set(node.ref, i);
  });
  const checked = nodes.map((node, i) => checkNode(node, i, indexOf));
  for (const node of checked)
    for (const dependency of node.dependencies)
      (checked[dependency] as CheckedNode).dependents.push(node.index);
  const cycle = findCycle(checked);
  if (cycle !== undefined)
    throw new InvalidArgumentError(
      "nodes",
      `must not form a cycle: ${cycle.join(" -> ")}`,
      cycle.join(" -> "),
    );
  return checked;
}

function checkNode(node: FlowNode, i: number, indexOf: ReadonlyMap<string, number>): CheckedNode {
  if (typeof node.name !== "string" || node.name.length === 0)
    throw new InvalidArgumentError(`nodes[${i}].name`, "must be a non-empty string", node.name);
  const policy = node.onDependencyFailure ?? "cancel";
  if (policy !== "cancel" && policy !== "run")
    throw new InvalidArgumentError(
      `nodes[${i}].onDependencyFailure`,
      'must be "cancel" or "run"',
      node.onDependencyFailure,
    );
  const options = node.options ?? NO_SUBMIT_OPTIONS;
  if (options !== NO_SUBMIT_OPTIONS) {
    try {
      validateSubmitOptions(options);
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
      const argument =
        error.argument === "options"
          ? `nodes[${i}].options`
          : `nodes[${i}].options.${error.argument}`;
      throw new InvalidArgumentError(argument, error.requirement, error.value);
    }
    for (const key of NODE_FORBIDDEN_OPTIONS)
      if (options[key] !== undefined)
        throw new InvalidArgumentError(
          `nodes[${i}].options.${key}`,
          "is not available to a flow node",
          options[key],
        );
  }
  const given = node.dependsOn ?? [];
  if (!Array.isArray(given))
    throw new InvalidArgumentError(`nodes[${i}].dependsOn`, "must be an array of refs", given);
  const dependsOn: string[] = [];
  const dependencies: number[] = [];
  for (const ref of given) {
    const index = typeof ref === "string" ? indexOf.get(ref) : undefined;
    if (index === undefined)
      throw new InvalidArgumentError(
        `nodes[${i}].dependsOn`,
        `must name refs of this flow: unknown ref "${String(ref)}"`,
        ref,
      );
    if (dependencies.includes(index)) continue;
    dependsOn.push(ref);
    dependencies.push(index);
  }
  return {
    index: i,
    ref: node.ref,
    name: node.name,
    payload: node.payload,
    options,
    dependsOn,
    dependencies,
    dependents: [],
    onDependencyFailure: policy,
  };
}

/** A cycle as refs (first ref repeated at the end), or undefined for a DAG. Iterative DFS. */
function findCycle(nodes: readonly CheckedNode[]): string[] | undefined {
  const state = new Uint8Array(nodes.length); // 0 new, 1 on the path, 2 done
  for (let root = 0; root < nodes.length; root++) {
    if (state[root] !== 0) continue;
    const path: number[] = [root];
    const next: number[] = [0];
    state[root] = 1;
    while (path.length > 0) {
      const top = path.length - 1;
      const at = path[top] as number;
      const deps = (nodes[at] as CheckedNode).dependencies;
      const k = next[top] as number;
      if (k === deps.length) {
        state[at] = 2;
        path.pop();
        next.pop();
        continue;
      }
      next[top] = k + 1;
      const dep = deps[k] as number;
      if (state[dep] === 1) {
        // `dependsOn` points backwards in time: print the cycle in the order things would run,
        // from its node given first, so the message does not depend on where the search began.
        const cycle = path.slice(path.indexOf(dep)).reverse();
        const first = cycle.indexOf(Math.min(...cycle));
        const refs = [...cycle.slice(first), ...cycle.slice(0, first)].map(
          (n) => (nodes[n] as CheckedNode).ref,
        );
        return [...refs, refs[0] as string];
      }
      if (state[dep] === 0) {
        state[dep] = 1;
        path.push(dep);
        next.push(0);
      }
    }
  }
  return undefined;
}
