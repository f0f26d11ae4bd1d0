// A throwaway PostgreSQL server for the Postgres suite: `initdb` into a fresh temporary
// directory, `postgres` on 127.0.0.1 and a free port, trust auth for the user `postgres`. The
// plain .mjs counterpart of test/support/postgres-server.ts, reduced to what the bench needs.
// As root (CI containers) it runs as `nobody` through `setpriv` (postgres refuses root).
//
// Settings: fsync off (every contender commits to the OS page cache; a machine crash could
// lose the last commits, a process crash cannot), shared_buffers 256MB, max_connections 300.
// Only the process this module spawned is ever signalled, by its own pid.
import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const HOST = "127.0.0.1";
const NOBODY = 65534;
const live = new Map();
let exitHook = false;

/** The directory holding initdb and postgres: PATH, else Debian's /usr/lib/postgresql/<v>/bin. */
export function postgresBinDir() {
  for (const dir of (process.env.PATH ?? "").split(delimiter))
    if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"))) return dir;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => b - a)
    : [];
  for (const v of versions) {
    const dir = join(root, v, "bin");
    if (existsSync(join(dir, "initdb"))) return dir;
  }
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: HOST, port: 0, exclusive: true }, () => {
      const { port } = server.address();
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

export async function startPostgresServer() {
  const bin = postgresBinDir();
  if (bin === null) throw new Error("PostgreSQL server binaries (initdb, postgres) not found");
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const child of live.values()) child.kill("SIGKILL");
    });
    // An interrupted bench must not leave its server running.
    for (const signal of ["SIGINT", "SIGTERM"])
      process.once(signal, () => {
        for (const child of live.values()) child.kill("SIGKILL");
        process.exit(130);
      });
  }
  const asRoot = process.getuid?.() === 0;
  const as = (path, args) =>
    asRoot
      ? [
          "setpriv",
          [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", path, ...args],
        ]
      : [path, args];
  const dir = await mkdtemp(join(tmpdir(), "taskmill-bench-pg-"));
  if (asRoot) await chown(dir, NOBODY, NOBODY);
  const data = join(dir, "data");
  const [initdb, initArgs] = as(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "--no-sync",
    "-E",
    "UTF8",
    "--locale=C",
  ]);
  await run(initdb, initArgs, { cwd: dir });
  const port = await freePort();
  const settings = {
    listen_addresses: HOST,
    port,
    unix_socket_directories: dir,
    fsync: "off",
    full_page_writes: "off",
    shared_buffers: "256MB",
    max_connections: 300,
  };
  const args = ["-D", data];
  for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
  const [postgres, argv] = as(join(bin, "postgres"), args);
  const child = spawn(postgres, argv, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  let output = "";
  child.stderr.on("data", (chunk) => {
    output = (output + chunk).slice(-4_000);
  });
  live.set(child.pid, child);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = `postgres://postgres@${HOST}:${port}/postgres`;
  const { default: pg } = await import("pg");
  let version = "unknown";
  for (let i = 0; ; i++) {
    const client = new pg.Client({ connectionString: url });
    client.on("error", () => {});
    try {
      await client.connect();
      version = (await client.query("SHOW server_version")).rows[0].server_version;
      await client.end();
      break;
    } catch {
      await client.end().catch(() => {});
      if (i > 300) throw new Error(`postgres did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    version,
    config: "fsync off, synchronous_commit on, shared_buffers 256MB",
    async stop() {
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
      live.delete(child.pid);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
