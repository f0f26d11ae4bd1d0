/**
 * Registers the embedded Lua scripts on an ioredis client and calls them with typed arguments.
 *
 * Each script is registered with `defineCommand` under `taskmill:<name>:<version>`, where the
 * version is a hash of its source: after an upgrade the new source gets a new command, so a
 * client shared by two versions (or a long-lived process) never runs a stale script. ioredis
 * sends EVALSHA and falls back to EVAL on NOSCRIPT, so a restarted Redis (empty script cache)
 * needs nothing from us.
 */
import type { ChainableCommander } from "ioredis";
import type { RedisClient } from "./client.js";
import { type LuaScriptSource, luaScripts } from "./scripts.generated.js";

/** Name of an embedded script. */
export type ScriptName = keyof typeof luaScripts;

/** One script argument (numbers are sent as their decimal text). */
export type ScriptArg = string | number;

// ioredis flattens a command's arguments one level (\`args.flat()\`), so the script arguments
// travel as one nested array: spreading them into the call would put every argument on the
// stack, and a large enqueue-many (16 arguments per task) would overflow it.
type ScriptMethod = (...args: (ScriptArg | readonly ScriptArg[])[]) => unknown;

// Built once: a name assembled per call is a fresh string, and looking it up on the client is a
// slow keyed load every time.
const COMMAND_NAMES = new Map<ScriptName, string>(
  (Object.keys(luaScripts) as ScriptName[]).map((name) => [
    name,
    `taskmill:${name}:${luaScripts[name].version}`,
  ]),
);

/** The command name a script is registered under. */
export function commandName(name: ScriptName): string {
  return COMMAND_NAMES.get(name) as string;
}

/** Defines every script on `redis` (once per client; pipelines of the client inherit them). */
export function registerScripts(redis: RedisClient): void {
  const target = redis as unknown as Record<string, unknown>;
  for (const name of Object.keys(luaScripts) as ScriptName[]) {
    const command = commandName(name);
    if (typeof target[command] === "function") continue;
    const script: LuaScriptSource = luaScripts[name];
    redis.defineCommand(
      command,
      script.numberOfKeys === undefined
        ? { lua: script.lua }
        : { lua: script.lua, numberOfKeys: script.numberOfKeys },
    );
  }
}

/** Runs a script now. Keys first, then arguments, as in the script's header. */
export function runScript(
  redis: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  return Reflect.apply(
    methodOf(redis, name),
    redis,
    scriptArgs(name, keys, args),
  ) as Promise<unknown>;
}

/** Queues a script call on a pipeline; its reply comes back from `exec()`. */
export function queueScript(
  pipeline: ChainableCommander,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): void {
  // On a pipeline the call only queues; exec() reports each reply (or error) in order.
  Reflect.apply(methodOf(pipeline, name), pipeline, scriptArgs(name, keys, args));
}

function scriptArgs(
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): (ScriptArg | readonly ScriptArg[])[] {
  const expected: number | undefined = luaScripts[name].numberOfKeys;
  if (expected === undefined) return [keys.length, ...keys, args];
  if (keys.length !== expected)
    throw new Error(`Script ${name} takes ${expected} keys, got ${keys.length}`);
  return [...keys, args];
}

function methodOf(target: object, name: ScriptName): ScriptMethod {
  const method = (target as Record<string, unknown>)[commandName(name)];
  if (typeof method !== "function")
    throw new Error(`Script ${name} is not registered on this client: call registerScripts()`);
  return method as ScriptMethod;
}
