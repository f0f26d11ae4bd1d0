/**
 * What every command needs: the resolved global options, a client and the two output streams.
 * Also the argument parsers shared by several commands, so a bad flag is a usage error (exit 2)
 * found before any request.
 */
import { type Command, InvalidArgumentError } from "commander";
import { AdminClient } from "./client.js";
import { UsageError } from "./errors.js";
import { createStyle, type Style, shouldUseColor } from "./format.js";

/** The process surroundings, injected so the program can run inside tests too. */
export interface Io {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

/** The global options after commander applied flags, env vars and defaults. */
export interface GlobalOptions {
  readonly url: string;
  readonly token?: string;
  readonly json?: boolean;
  readonly timeoutMs: number;
}

/** The default of `--url`. */
export const DEFAULT_URL = "http://127.0.0.1:8080";
/** The default of `--timeout-ms`. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Per-invocation state handed to a command's action. */
export class Context {
  readonly client: AdminClient;
  readonly json: boolean;
  readonly style: Style;
  readonly errStyle: Style;

  constructor(
    readonly io: Io,
    readonly options: GlobalOptions,
  ) {
    this.client = new AdminClient({
      url: options.url,
      token: options.token,
      timeoutMs: options.timeoutMs,
    });
    this.json = options.json === true;
    this.style = createStyle(shouldUseColor(io.stdout, io.env));
    this.errStyle = createStyle(shouldUseColor(io.stderr, io.env));
  }

  /** Builds the context of the running subcommand from its (and its ancestors') options. */
  static of(command: Command, io: Io): Context {
    const options = command.optsWithGlobals<GlobalOptions>();
    if (rootOf(command).getOptionValueSource("token") === "cli")
      io.stderr.write(
        "warning: --token is visible to other users in the process list; prefer TASKMILL_TOKEN\n",
      );
    return new Context(io, options);
  }

  /** Prints `value` as JSON with --json, otherwise the human text (built lazily). */
  print(value: unknown, human: () => string): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else this.io.stdout.write(`${human()}\n`);
  }

  /** A note for people, on stderr so it never mixes with data on stdout. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }
}

function rootOf(command: Command): Command {
  let current = command;
  while (current.parent) current = current.parent;
  return current;
}

/** A commander argument parser for integers in `[min, max]`. */
export function intIn(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max)
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER
          ? `must be an integer >= ${min}`
          : `must be an integer from ${min} to ${max}`,
      );
    return value;
  };
}

/** A commander argument parser for any safe integer (priorities may be negative). */
export function anyInt(raw: string): number {
  const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError("must be an integer");
  return value;
}

/** A commander argument parser for a non-empty string. */
export function nonEmpty(raw: string): string {
  if (raw.trim() === "") throw new InvalidArgumentError("must not be empty");
  return raw;
}

/** A parser of comma lists whose items must be among `allowed` (when given). */
export function commaList(allowed?: readonly string[]) {
  return (raw: string): string[] => {
    const items = raw
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    if (items.length === 0) throw new InvalidArgumentError("must list at least one value");
    const unknown = allowed ? items.filter((item) => !allowed.includes(item)) : [];
    if (unknown.length > 0)
      throw new InvalidArgumentError(
        `unknown value ${unknown.map((u) => `"${u}"`).join(", ")} (expected ${allowed?.join(", ")})`,
      );
    return items;
  };
}

/** Parses a JSON payload given on the command line or in a file. */
export function parsePayload(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${source} is not valid JSON: ${reason}`);
  }
}

/** Help text listing examples, appended after the options. */
export function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join("\n")}\n`;
}
