/**
 * Opens a manager on a SQLite file (the BUILT package), submits one task, prints the outcome
 * as one JSON line ({ ok, id } or { ok: false, name, code, reason, message }) and exits. Run by
 * the read-only-directory test as an unprivileged user.
 *
 *   node sqlite-submit-once.mjs <file>
 */
const { TaskManager } = await import(new URL("../../dist/index.js", import.meta.url).href);
const mill = new TaskManager({
  backend: { type: "sqlite", path: process.argv[2], callTimeoutMs: 3_000 },
});
let line;
try {
  const handle = await mill.submit("job", { n: 1 });
  line = { ok: true, id: handle.id };
} catch (error) {
  line = {
    ok: false,
    name: error.name,
    code: error.code,
    reason: error.reason,
    message: error.message,
  };
}
await mill.stopNow();
process.stdout.write(`${JSON.stringify(line)}\n`);
