/**
 * Packs the built package with `npm pack` and installs the tarball into a scratch project in a
 * temporary folder with `npm ci --offline`, as a user's app would have it: taskmill from the
 * tarball, its dependencies and the consumer files from `consumer/`. Build first (`npm test`
 * does): the tarball holds dist/ as it is.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Lockfile, scratchProject } from "./lock-subset.js";

/** The repository's root folder. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CONSUMER = fileURLToPath(new URL("./consumer/", import.meta.url));

/** Packages from the repository's lock installed next to taskmill in the scratch project. */
const EXTRA = ["ioredis", "prom-client", "@types/node"];

/** What one command did. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (never through a shell); a non-zero exit is returned, not thrown. */
export function run(
  file: string,
  args: readonly string[],
  cwd: string,
  timeoutMs = 60_000,
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd,
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: "1" },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Like `run`, but throws with the command's output when it fails. */
export async function runOk(
  file: string,
  args: readonly string[],
  cwd: string,
): Promise<RunResult> {
  const result = await run(file, args, cwd);
  if (result.code !== 0)
    throw new Error(
      `${file} ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  return result;
}

/** The npm that runs this process (npm_execpath under `npm test`), else `npm` from PATH. */
function npm(args: readonly string[], cwd: string): Promise<RunResult> {
  const cli = process.env.npm_execpath;
  return cli?.endsWith(".js")
    ? runOk(process.execPath, [cli, ...args], cwd)
    : runOk("npm", args, cwd);
}

/** A scratch project with the packed package installed; `remove()` deletes it. */
export interface Scratch {
  readonly dir: string;
  /** The tarball's file name in `dir`. */
  readonly tarball: string;
  /** Paths (relative to the package root) of every file in the tarball. */
  readonly files: readonly string[];
  remove(): void;
}

/** Packs taskmill and installs it into a new scratch project. */
export async function createScratch(): Promise<Scratch> {
  if (!existsSync(join(ROOT, "dist/index.js")))
    throw new Error(`${ROOT}dist is missing: run "npm run build" before these tests`);
  const dir = mkdtempSync(join(tmpdir(), "taskmill-package-"));
  try {
    // --ignore-scripts: pack dist/ as built (prepack would rebuild it).
    const packed = await npm(
      ["pack", "--json", "--ignore-scripts", "--pack-destination", dir],
      ROOT,
    );
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    if (info === undefined) throw new Error(`npm pack printed no package: ${packed.stdout}`);
    const tarball = info.filename;
    const integrity = `sha512-${createHash("sha512")
      .update(readFileSync(join(dir, tarball)))
      .digest("base64")}`;
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as Lockfile;
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const project = scratchProject(lock, { tarball, integrity, manifest, extra: EXTRA });
    writeFileSync(join(dir, "package.json"), `${JSON.stringify(project.packageJson, null, 2)}\n`);
    writeFileSync(
      join(dir, "package-lock.json"),
      `${JSON.stringify(project.packageLock, null, 2)}\n`,
    );
    await npm(["ci", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], dir);
    cpSync(CONSUMER, dir, { recursive: true });
    return {
      dir,
      tarball,
      files: info.files.map((file) => file.path),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
