/**
 * The lifecycle's transition table (`ALLOWED_TRANSITIONS` in src/lifecycle/states.ts, with the
 * DLQ-replay exception of `reopenFailed` in src/lifecycle/transitions.ts) is the authority for
 * the Lua scripts too. This test reads every .lua file under src/stores/redis/lua (includes
 * too), without running Redis, and:
 *
 * 1. finds every place a task's status is written. It tokenizes the Lua (comments and strings
 *    handled) and classifies every `"status"` string in the code: an argument of
 *    `redis.call("HSET" | "HMSET" | "HSETNX", ...)` is a write (the status is the next argument:
 *    a literal, or a local variable whose every assignment is a literal), of HGET/HMGET a read,
 *    of XADD an event field (the stream, not the task); one in a table constructor is
 *    classified by the `redis.call(<command>, key, unpack(<table>))` that uses the table. Any
 *    other use, an HSET whose field names are not literals (other than such an unpack), a
 *    `redis.call` whose command is not a literal, or a command that could replace a whole hash
 *    (RENAME, COPY, RESTORE, ...) fails the test until it is classified here;
 * 2. takes, from {@link EDGES} below, the statuses each script writes FROM: every written
 *    status is listed with its guard, a piece of the script's code that must still be there
 *    word for word and names exactly those statuses (so changing a guard means revisiting its
 *    entry);
 * 3. checks that the statuses found per script (its own and those of the includes it pulls in,
 *    transitively) are exactly the ones listed, and that every (from -> to) edge is allowed.
 *
 * Edges the table does not allow would be listed in {@link KNOWN_VIOLATIONS}; any other fails
 * the test.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  ALLOWED_TRANSITIONS,
  TASK_STATUSES,
  type TaskStatus,
} from "../../../src/lifecycle/states.js";
import type { TaskRecord } from "../../../src/lifecycle/task-record.js";
import { reopenFailed } from "../../../src/lifecycle/transitions.js";

const LUA_DIR = fileURLToPath(new URL("../../../src/stores/redis/lua/", import.meta.url));

// ---------------------------------------------------------------------------------------------
// The documented part: what each script writes, from which statuses, and why.
// ---------------------------------------------------------------------------------------------

/** A task that did not exist before the script (enqueue). */
const NEW = "(new)";
type From = TaskStatus | typeof NEW;

/**
 * The statuses a new task starts in: the lifecycle draws `submit ──► scheduled` and `queued`
 * (states.ts), and `TaskRecord` starts a task `queued`, or `scheduled` when it has a `runAt`,
 * or `waiting` when it is a flow's node with dependencies.
 */
const CREATED_AS: readonly TaskStatus[] = ["queued", "scheduled", "waiting"];

/** Scripts that are the operator's DLQ replay, the one way out of a terminal state. */
const REOPEN_SCRIPTS: readonly string[] = ["dlq-replay-4.lua"];

/** A piece of code (compared with whitespace collapsed, comments removed) in `file`. */
interface Guard {
  readonly file: string;
  readonly code: string;
}

/** One status a script writes: from which statuses, and the guard that says so. */
interface Edge {
  readonly to: TaskStatus;
  readonly from: readonly From[];
  /** The guards; the statuses they quote must be exactly `from` (none for `NEW`). */
  readonly guards: readonly Guard[];
}

/** Only a caller holding the lease of a running task passes (ack, nack, fail; claim's acks). */
const LEASE_HELD: Guard = { file: "includes/lease.lua", code: 'if status ~= "running" then' };
/** enqueue and enqueue-many store a task only when no hash exists under its id. */
const NO_SUCH_TASK: Guard = { file: "includes/enqueue.lua", code: "if not existing[2] then" };
/** claim leases (or dead-letters, or expires) a candidate only in these statuses. */
const CLAIM_CANDIDATE: Guard = {
  file: "claim-N.lua",
  code: 'if f[2] ~= member or (f[1] ~= "queued" and f[1] ~= "retrying") then',
};

/**
 * A flow's node leaves `waiting` only in includes/flow.lua, when a dependency ended: released
 * (queued, or scheduled while its delay runs) or cancelled. Every script that ends a task pulls
 * it in (complete, dead-letter, cancel, claim's expiry).
 */
const FLOW_WAITING: Guard = { file: "includes/flow.lua", code: 'if d[1] == "waiting" then' };
const FLOW_EDGES: readonly Edge[] = [
  { to: "queued", from: ["waiting"], guards: [FLOW_WAITING] },
  { to: "scheduled", from: ["waiting"], guards: [FLOW_WAITING] },
  { to: "cancelled", from: ["waiting"], guards: [FLOW_WAITING] },
];

/** Per script (file name under lua/), every status it writes. Scripts writing none: `[]`. */
const EDGES: Readonly<Record<string, readonly Edge[]>> = {
  "ack-5.lua": [{ to: "succeeded", from: ["running"], guards: [LEASE_HELD] }, ...FLOW_EDGES],
  // The admin audit trail: its own zset and hash, never a task.
  "audit-append-2.lua": [],
  "cancel-7.lua": [
    {
      to: "cancelled",
      from: ["queued", "scheduled", "retrying", "running", "waiting"],
      guards: [
        {
          file: "cancel-7.lua",
          code: 'if status == "queued" or status == "scheduled" or status == "retrying" or status == "waiting" then',
        },
        { file: "cancel-7.lua", code: 'elseif status == "running" then' },
      ],
    },
    ...FLOW_EDGES,
  ],
  "claim-N.lua": [
    // 1. acks (includes/complete.lua).
    { to: "succeeded", from: ["running"], guards: [LEASE_HELD] },
    // 4a. promotion of due delayed tasks: scheduled ones become queued (due retries stay
    // retrying, only their runAt is cleared).
    {
      to: "queued",
      from: ["scheduled"],
      guards: [{ file: "claim-N.lua", code: 'if f[3] == "scheduled" then' }],
    },
    // 4d. candidates: leased, or expired (queued and never started), or dead-lettered as poison
    // (includes/dead-letter.lua) when delivered maxDeliveries times already.
    { to: "running", from: ["queued", "retrying"], guards: [CLAIM_CANDIDATE] },
    {
      to: "expired",
      from: ["queued"],
      guards: [{ file: "claim-N.lua", code: 'elseif f[1] == "queued" and (f[5] or "") == ""' }],
    },
    { to: "failed", from: ["queued", "retrying"], guards: [CLAIM_CANDIDATE] },
    ...FLOW_EDGES,
  ],
  "dlq-purge-2.lua": [],
  "dlq-replay-4.lua": [
    {
      to: "queued",
      from: ["failed"],
      guards: [{ file: "dlq-replay-4.lua", code: 'if f[1] == "failed" then' }],
    },
  ],
  "enqueue-flow-4.lua": [
    { to: "queued", from: [NEW], guards: [NO_SUCH_TASK] },
    { to: "scheduled", from: [NEW], guards: [NO_SUCH_TASK] },
    {
      to: "waiting",
      from: [NEW],
      guards: [
        {
          file: "enqueue-flow-4.lua",
          code: 'if redis.call("EXISTS", base .. "t:" .. nodes[i][1]) == 1 then',
        },
      ],
    },
  ],
  "enqueue-8.lua": [
    { to: "queued", from: [NEW], guards: [NO_SUCH_TASK] },
    { to: "scheduled", from: [NEW], guards: [NO_SUCH_TASK] },
  ],
  "enqueue-many-4.lua": [
    { to: "queued", from: [NEW], guards: [NO_SUCH_TASK] },
    { to: "scheduled", from: [NEW], guards: [NO_SUCH_TASK] },
  ],
  "fail-5.lua": [{ to: "failed", from: ["running"], guards: [LEASE_HELD] }, ...FLOW_EDGES],
  "leader-release-1.lua": [],
  "leader-renew-1.lua": [],
  "nack-5.lua": [{ to: "retrying", from: ["running"], guards: [LEASE_HELD] }],
  "progress-1.lua": [],
  // The sharded layout's global rate bucket (control shard): its own hash, never a task.
  "rate-take-1.lua": [],
  "reclaim-5.lua": [
    {
      to: "retrying",
      from: ["running"],
      guards: [{ file: "reclaim-5.lua", code: 'if f[1] == "running" then' }],
    },
    {
      to: "failed",
      from: ["running"],
      guards: [{ file: "reclaim-5.lua", code: 'if f[1] == "running" then' }],
    },
    ...FLOW_EDGES,
  ],
  "renew-2.lua": [],
  "trim-3.lua": [],
};

/**
 * Edges written by a script that the transition table does not allow: none. Should one be
 * needed, list it here with why, so the test guards against new ones (it fails while a listed
 * edge is no longer written). claim-N.lua's poison rule (`queued`/`retrying` -> `failed`) was
 * one; the table now allows it for every store.
 */
const KNOWN_VIOLATIONS: readonly string[] = [];

/** `redis.call` with a command that is not a literal: where, and why it writes no status. */
const DYNAMIC_COMMANDS: Readonly<Record<string, string>> = {
  "includes/batch.lua":
    "batched(cmd, key, list, step) runs cmd over list in slices; every call of batched is " +
    "checked below to pass a literal command that is not a hash write",
};

// ---------------------------------------------------------------------------------------------
// A small Lua tokenizer.
// ---------------------------------------------------------------------------------------------

interface Token {
  readonly kind: "str" | "name" | "num" | "sym";
  /** The source text; for strings, the decoded value. */
  readonly text: string;
  readonly line: number;
}

const SYMBOLS = ["...", "..", "==", "~=", "<=", ">=", "::", "//", "<<", ">>"];

/** Lua source as tokens; comments are dropped, strings decoded (simple escapes). */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const longBracket = (at: number): number => {
    // "[" "="* "[" at `at`: returns the level, or -1.
    if (source[at] !== "[") return -1;
    let j = at + 1;
    while (source[j] === "=") j++;
    return source[j] === "[" ? j - at - 1 : -1;
  };
  const skipLong = (at: number, level: number): { end: number; body: string } => {
    const open = at + level + 2;
    const close = `]${"=".repeat(level)}]`;
    const end = source.indexOf(close, open);
    if (end < 0) throw new Error(`unclosed long bracket at line ${line}`);
    const body = source.slice(open, end);
    line += body.split("\n").length - 1;
    return { end: end + close.length, body };
  };
  while (i < source.length) {
    const c = source[i] as string;
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (source.startsWith("--", i)) {
      const level = longBracket(i + 2);
      if (level >= 0) i = skipLong(i + 2, level).end;
      else {
        const end = source.indexOf("\n", i);
        i = end < 0 ? source.length : end;
      }
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let value = "";
      while (source[j] !== c) {
        if (j >= source.length || source[j] === "\n")
          throw new Error(`unclosed string at line ${line}`);
        if (source[j] === "\\") {
          const next = source[j + 1] as string;
          value += next === "n" ? "\n" : next === "t" ? "\t" : next;
          j += 2;
        } else value += source[j++];
      }
      tokens.push({ kind: "str", text: value, line });
      i = j + 1;
    } else if (c === "[" && longBracket(i) >= 0) {
      const startLine = line;
      const { end, body } = skipLong(i, longBracket(i));
      tokens.push({ kind: "str", text: body.replace(/^\n/, ""), line: startLine });
      i = end;
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i)) as RegExpExecArray;
      tokens.push({ kind: "name", text: match[0], line });
      i += match[0].length;
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(source[i + 1] ?? ""))) {
      const match = /^(0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?)/.exec(
        source.slice(i),
      ) as RegExpExecArray;
      tokens.push({ kind: "num", text: match[0], line });
      i += match[0].length;
    } else {
      const symbol = SYMBOLS.find((s) => source.startsWith(s, i)) ?? c;
      tokens.push({ kind: "sym", text: symbol, line });
      i += symbol.length;
    }
  }
  return tokens;
}

const OPEN: Record<string, string> = { "(": ")", "{": "}", "[": "]" };
const CLOSE = new Set(Object.values(OPEN));

/** Index of the bracket closing the one at `open`. */
function matching(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind !== "sym") continue;
    if (OPEN[t.text] !== undefined) depth++;
    else if (CLOSE.has(t.text) && --depth === 0) return i;
  }
  throw new Error(`unbalanced bracket at line ${tokens[open]?.line}`);
}

/** Index of the innermost bracket still open at `at`, or -1. */
function enclosing(tokens: readonly Token[], at: number): number {
  let depth = 0;
  for (let i = at - 1; i >= 0; i--) {
    const t = tokens[i] as Token;
    if (t.kind !== "sym") continue;
    if (CLOSE.has(t.text)) depth++;
    else if (OPEN[t.text] !== undefined) {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/** The comma-separated items between the bracket at `open` and its match, as index ranges. */
function items(tokens: readonly Token[], open: number): Array<[number, number]> {
  const close = matching(tokens, open);
  const out: Array<[number, number]> = [];
  let start = open + 1;
  let depth = 0;
  for (let i = open + 1; i < close; i++) {
    const t = tokens[i] as Token;
    if (t.kind !== "sym") continue;
    if (OPEN[t.text] !== undefined) depth++;
    else if (CLOSE.has(t.text)) depth--;
    else if (depth === 0 && (t.text === "," || t.text === ";")) {
      out.push([start, i]);
      start = i + 1;
    }
  }
  if (start < close) out.push([start, close]);
  return out;
}

/** True when tokens[at..] read `redis.call(` or `redis.pcall(`; returns the `(` index. */
function redisCallAt(tokens: readonly Token[], at: number): number {
  const [a, dot, call, paren] = [tokens[at], tokens[at + 1], tokens[at + 2], tokens[at + 3]];
  return a?.text === "redis" &&
    dot?.text === "." &&
    (call?.text === "call" || call?.text === "pcall") &&
    paren?.text === "("
    ? at + 3
    : -1;
}

// ---------------------------------------------------------------------------------------------
// The analysis.
// ---------------------------------------------------------------------------------------------

const HASH_WRITES = new Set(["HSET", "HMSET", "HSETNX"]);
const HASH_READS = new Set(["HGET", "HMGET", "HGETALL", "HEXISTS"]);
/** Commands that replace a whole key's value: a task hash could get any status that way. */
const WHOLE_KEY_WRITES = new Set(["RENAME", "RENAMENX", "COPY", "RESTORE", "MOVE", "SWAPDB"]);

interface LuaFile {
  /** Relative to lua/, e.g. `claim-N.lua` or `includes/lease.lua`. */
  readonly name: string;
  readonly source: string;
  readonly tokens: readonly Token[];
  /** Includes it names (`-- @include x` -> `includes/x.lua`). */
  readonly includes: readonly string[];
}

/** One place a status is written. */
interface StatusWrite {
  readonly file: string;
  readonly line: number;
  readonly statuses: readonly string[];
}

function loadLuaFiles(): Map<string, LuaFile> {
  const files = new Map<string, LuaFile>();
  const names = [
    ...readdirSync(LUA_DIR).filter((f) => f.endsWith(".lua")),
    ...readdirSync(join(LUA_DIR, "includes"))
      .filter((f) => f.endsWith(".lua"))
      .map((f) => `includes/${f}`),
  ];
  for (const name of names) {
    const source = readFileSync(join(LUA_DIR, name), "utf8");
    const includes = [...source.matchAll(/^--\s*@include\s+([a-z0-9-]+)\s*$/gm)].map(
      (m) => `includes/${m[1]}.lua`,
    );
    files.set(name, { name, source, tokens: tokenize(source), includes });
  }
  return files;
}

/** The statuses a variable holds at a write: every assignment of it in the file is a literal. */
function resolveVariable(file: LuaFile, variable: string, line: number): string[] {
  const { tokens } = file;
  const values: string[] = [];
  const where = `${file.name}:${line}: status from variable "${variable}"`;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind !== "name" || t.text !== variable) continue;
    const before = tokens[i - 1];
    const after = tokens[i + 1];
    // A parameter or a loop variable: its values come from elsewhere.
    const opener = enclosing(tokens, i);
    if (
      opener >= 0 &&
      (tokens[opener - 1]?.text === "function" || tokens[opener - 2]?.text === "function")
    )
      throw new Error(`${where} is a function parameter: classify it in this test`);
    let back = i - 1;
    while (tokens[back]?.text === "," && tokens[back - 1]?.kind === "name") back -= 2;
    if (tokens[back]?.text === "for")
      throw new Error(`${where} is a loop variable: classify it in this test`);
    if (after?.text !== "=") continue;
    if (before?.text === ",")
      throw new Error(`${where} is assigned in a multiple assignment: classify it in this test`);
    const value = tokens[i + 2];
    const next = tokens[i + 3];
    const continues =
      next !== undefined &&
      next.kind === "sym" &&
      ["..", "(", "[", ".", ":", "==", "~=", "<", ">", "<=", ">="].includes(next.text);
    const binary = next !== undefined && next.kind === "name" && ["and", "or"].includes(next.text);
    if (value?.kind !== "str" || continues || binary)
      throw new Error(`${where} is assigned something other than a literal (line ${t.line})`);
    values.push(value.text);
  }
  if (values.length === 0) throw new Error(`${where}: no assignment found`);
  return values;
}

/** The statuses a value expression (tokens from..to) writes. */
function statusValue(file: LuaFile, from: number, to: number): string[] {
  const slice = file.tokens.slice(from, to);
  const [only] = slice;
  if (slice.length === 1 && only?.kind === "str") return [only.text];
  if (slice.length === 1 && only?.kind === "name")
    return resolveVariable(file, only.text, only.line);
  throw new Error(
    `${file.name}:${only?.line}: status written from an expression (${slice.map((t) => t.text).join(" ")}): classify it in this test`,
  );
}

/** The command of the `redis.call(` whose `(` is at `paren`, or undefined if not a literal. */
function commandOf(file: LuaFile, paren: number): string | undefined {
  const first = file.tokens[paren + 1];
  const second = file.tokens[paren + 2];
  return first?.kind === "str" && second?.text !== ".." ? first.text.toUpperCase() : undefined;
}

/** Every `redis.call(... unpack(<table>) ...)` of the file: the command per table name. */
function unpackUses(file: LuaFile): Map<string, Set<string>> {
  const uses = new Map<string, Set<string>>();
  const { tokens } = file;
  for (let i = 0; i < tokens.length; i++) {
    const paren = redisCallAt(tokens, i);
    if (paren < 0) continue;
    const command = commandOf(file, paren) ?? "?";
    const close = matching(tokens, paren);
    for (let j = paren; j < close; j++)
      if (tokens[j]?.text === "unpack" && tokens[j + 1]?.text === "(") {
        const table = tokens[j + 2];
        if (table?.kind === "name") {
          const set = uses.get(table.text) ?? new Set<string>();
          set.add(command);
          uses.set(table.text, set);
        }
      }
  }
  return uses;
}

/** Every status write of one file (its own code only, not its includes). */
function statusWrites(file: LuaFile): StatusWrite[] {
  const { tokens } = file;
  const writes: StatusWrite[] = [];
  const tables = unpackUses(file);
  const fail = (line: number, why: string): never => {
    throw new Error(`${file.name}:${line}: ${why}: classify it in this test`);
  };

  // Every redis.call: a literal command (or a documented dynamic one); no whole-key writes;
  // hash writes name literal fields (or unpack a table, checked with the "status" strings).
  for (let i = 0; i < tokens.length; i++) {
    const paren = redisCallAt(tokens, i);
    if (paren < 0) continue;
    const line = (tokens[i] as Token).line;
    const command = commandOf(file, paren);
    if (command === undefined) {
      if (DYNAMIC_COMMANDS[file.name] === undefined)
        fail(line, "redis.call with a computed command");
      continue;
    }
    if (WHOLE_KEY_WRITES.has(command)) fail(line, `${command} could replace a task hash`);
    if (!HASH_WRITES.has(command)) continue;
    const args = items(tokens, paren);
    for (let k = 2; k < args.length; k += 2) {
      const [a, b] = args[k] as [number, number];
      const field = tokens.slice(a, b);
      const isLiteral = field.length === 1 && field[0]?.kind === "str";
      const isUnpack = field[0]?.text === "unpack" && k === args.length - 1;
      // A literal prefix that "status" does not start with ("d:" .. ref, a flow node's
      // dependency outcome; "o:" .. ref on a flow hash) can never name the status field.
      const isPrefixed =
        field.length >= 3 &&
        field[0]?.kind === "str" &&
        field[1]?.text === ".." &&
        !"status".startsWith(field[0].text);
      if (!isLiteral && !isUnpack && !isPrefixed)
        fail(line, `${command} with a computed field name`);
    }
  }

  // Every batched(cmd, ...) call passes a literal command that is not a hash write.
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]?.text !== "batched" || tokens[i + 1]?.text !== "(") continue;
    if (tokens[i - 1]?.text === "function") continue;
    const cmd = tokens[i + 2];
    if (cmd?.kind !== "str") fail(cmd?.line ?? 0, "batched with a computed command");
    else if (
      HASH_WRITES.has(cmd.text.toUpperCase()) ||
      WHOLE_KEY_WRITES.has(cmd.text.toUpperCase())
    )
      fail(cmd.line, `batched("${cmd.text}", ...) writes hashes`);
  }

  // Every "status" string in the code.
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind !== "str" || t.text !== "status") continue;
    const open = enclosing(tokens, i);
    const bracket = tokens[open];
    if (bracket?.text === "(") {
      const paren = redisCallAt(tokens, open - 3) === open ? open : -1;
      if (paren < 0) fail(t.line, '"status" passed to a function that is not redis.call');
      const command = commandOf(file, paren);
      if (command === undefined) fail(t.line, '"status" in a redis.call with a computed command');
      if (HASH_READS.has(command as string) || command === "XADD") continue;
      if (!HASH_WRITES.has(command as string)) fail(t.line, `"status" in ${command}`);
      const args = items(tokens, paren);
      const k = args.findIndex(([a]) => a === i);
      if (k < 2 || k % 2 !== 0) fail(t.line, `"status" is not a field name of ${command}`);
      const [a, b] = args[k + 1] as [number, number];
      writes.push({ file: file.name, line: t.line, statuses: statusValue(file, a, b) });
    } else if (bracket?.text === "{") {
      // A table constructor: `[local] name = { ... }`, used by redis.call(..., unpack(name)).
      const name = tokens[open - 2];
      if (tokens[open - 1]?.text !== "=" || name?.kind !== "name")
        fail(t.line, '"status" in a table that is not assigned to a name');
      const commands = [...(tables.get((name as Token).text) ?? [])];
      if (commands.length === 0)
        fail(t.line, `"status" in table ${name?.text}, which no redis.call unpacks`);
      if (commands.every((c) => HASH_READS.has(c))) continue;
      if (!commands.every((c) => HASH_WRITES.has(c)))
        fail(t.line, `table ${name?.text} is used by ${commands.join(", ")}`);
      const entries = items(tokens, open);
      const k = entries.findIndex(([a]) => a === i);
      if (k < 0 || k % 2 !== 0) fail(t.line, `"status" is not a field name in ${name?.text}`);
      const [a, b] = entries[k + 1] as [number, number];
      writes.push({ file: file.name, line: t.line, statuses: statusValue(file, a, b) });
    } else fail(t.line, '"status" outside a call or a table');
  }
  return writes;
}

/** A file's includes, transitively (itself excluded). */
function includedBy(files: Map<string, LuaFile>, name: string, seen = new Set<string>()): string[] {
  for (const include of files.get(name)?.includes ?? []) {
    if (seen.has(include)) continue;
    if (!files.has(include)) throw new Error(`${name} includes ${include}, which does not exist`);
    seen.add(include);
    includedBy(files, include, seen);
  }
  return [...seen];
}

/** Code with comments removed and whitespace collapsed, for guard lookups. */
function codeText(file: LuaFile): string {
  return file.tokens.map((t) => (t.kind === "str" ? JSON.stringify(t.text) : t.text)).join(" ");
}

/** The transitions the lifecycle allows for `script`. */
function allowed(script: string, from: From, to: TaskStatus): boolean {
  if (from === NEW) return CREATED_AS.includes(to);
  if (ALLOWED_TRANSITIONS[from].includes(to)) return true;
  if (!REOPEN_SCRIPTS.includes(script)) return false;
  // The DLQ replay's exception, as transitions.ts implements it.
  const record = { status: from } as TaskRecord;
  return reopenFailed(record) && record.status === to;
}

/** The whole analysis: per script, the statuses found and the edges, allowed or not. */
function analyse(files: Map<string, LuaFile>) {
  const writes = new Map<string, StatusWrite[]>();
  for (const [name, file] of files) writes.set(name, statusWrites(file));
  const scripts = [...files.keys()].filter((name) => !name.startsWith("includes/")).sort();
  const found = new Map<string, Set<string>>();
  const violations: string[] = [];
  for (const script of scripts) {
    const sites = [script, ...includedBy(files, script)].flatMap((f) => writes.get(f) ?? []);
    found.set(script, new Set(sites.flatMap((site) => site.statuses)));
    for (const edge of EDGES[script] ?? [])
      for (const from of edge.from)
        if (!allowed(script, from, edge.to)) violations.push(`${script}: ${from} -> ${edge.to}`);
  }
  return { scripts, writes, found, violations };
}

describe("Lua scripts against the transition table", () => {
  const files = loadLuaFiles();
  const { scripts, writes, found, violations } = analyse(files);

  it("finds the status writes (the parser sees them)", () => {
    const all = [...writes.values()].flat();
    // One per HSET of a status: enqueue's hash, claim's promotion, lease, expiry; complete,
    // dead-letter, nack, reclaim, cancel, dlq-replay.
    expect(all.length).toBeGreaterThanOrEqual(10);
    for (const site of all)
      for (const status of site.statuses)
        expect(TASK_STATUSES, `${site.file}:${site.line} writes "${status}"`).toContain(status);
    expect(
      writes
        .get("includes/enqueue.lua")
        ?.flatMap((s) => s.statuses)
        .sort(),
    ).toEqual(["queued", "scheduled"]);
  });

  it("lists every script, and for each exactly the statuses it writes", () => {
    expect(Object.keys(EDGES).sort()).toEqual(scripts);
    for (const script of scripts) {
      const listed = new Set((EDGES[script] ?? []).map((edge) => edge.to));
      expect([...(found.get(script) ?? [])].sort(), `statuses written by ${script}`).toEqual(
        [...listed].sort(),
      );
    }
  });

  it("finds each guard in its file, quoting exactly the statuses it lets through", () => {
    for (const [script, edges] of Object.entries(EDGES))
      for (const edge of edges) {
        const quoted = new Set<string>();
        for (const guard of edge.guards) {
          const file = files.get(guard.file);
          expect(file, `${script}: guard file ${guard.file}`).toBeDefined();
          expect(
            guard.file === script || includedBy(files, script).includes(guard.file),
            `${script} is or includes ${guard.file}`,
          ).toBe(true);
          const code = ` ${codeText(file as LuaFile)} `;
          const wanted = ` ${codeText({ ...(file as LuaFile), tokens: tokenize(guard.code) })} `;
          expect(code, `${script} -> ${edge.to}: guard in ${guard.file}`).toContain(wanted);
          for (const t of tokenize(guard.code))
            if (t.kind === "str" && (TASK_STATUSES as readonly string[]).includes(t.text))
              quoted.add(t.text);
        }
        const from = edge.from.filter((f) => f !== NEW);
        expect([...quoted].sort(), `${script} -> ${edge.to}: statuses of its guards`).toEqual(
          [...from].sort(),
        );
      }
  });

  it("writes only edges the transition table allows (known violations aside)", () => {
    const unexpected = violations.filter((edge) => !KNOWN_VIOLATIONS.includes(edge));
    expect(unexpected, "edges the transition table does not allow").toEqual([]);
    const gone = KNOWN_VIOLATIONS.filter((edge) => !violations.includes(edge));
    expect(gone, "no longer written: remove them from KNOWN_VIOLATIONS").toEqual([]);
  });
});

describe("the Lua status analysis itself", () => {
  const parse = (name: string, source: string) =>
    statusWrites({ name, source, tokens: tokenize(source), includes: [] });

  it("reads literal, variable and table writes, and skips reads and events", () => {
    const source = `
      -- redis.call("HSET", k, "status", "commented")
      local s = "queued"
      if x then s = "scheduled" end
      redis.call("HSET", k, "a", 1, "status", s)
      redis.call("HMGET", k, "status", "token")
      redis.call("XADD", e, "*", "status", "whatever")
      local fields = { "status", "running", "token", "" }
      redis.call("HSET", k, unpack(fields))
      local READ = { "status", "rm" }
      redis.call("HMGET", k, unpack(READ))
      redis.call('hset', k, 'status', 'failed')
    `;
    expect(parse("t.lua", source).map((w) => w.statuses)).toEqual([
      ["queued", "scheduled"],
      ["running"],
      ["failed"],
    ]);
  });

  it("refuses what it cannot classify", () => {
    const cases = [
      'local s = f() redis.call("HSET", k, "status", s)',
      'redis.call("HSET", k, "status", "a" .. x)',
      'redis.call("HSET", k, field, v)',
      'redis.call(cmd, k, "status", "queued")',
      'local t = { "status", "queued" } redis.call("SADD", k, unpack(t))',
      'local t = { "status", "queued" }',
      'helper(k, "status", "queued")',
      'redis.call("RENAME", a, b)',
      'batched("HSET", k, list, 2)',
      'local function f(s) redis.call("HSET", k, "status", s) end',
      'redis.call("HDEL", k, "status")',
    ];
    for (const source of cases) expect(() => parse("t.lua", source), source).toThrow();
  });
});
