#!/usr/bin/env node
/**
 * Copies the dashboard's static files (the tree under src/admin/dashboard/, e.g. app.js and
 * views/*.js) to dist/admin/dashboard/, which `tsc` does not do: the admin server lists and
 * reads them relative to its own module. Dotfiles are left out, as the server skips them.
 *
 * Usage: node scripts/copy-assets.mjs
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const from = join(root, "src/admin/dashboard");
const to = join(root, "dist/admin/dashboard");

/** Relative paths of the regular files under `dir` (symlinks and dotfiles skipped). */
function listFiles(dir, prefix = "") {
  const files = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const relative = join(prefix, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(dir, relative));
    else if (entry.isFile()) files.push(relative);
  }
  return files;
}

let files;
try {
  files = listFiles(from);
} catch (error) {
  console.error(`copy-assets: cannot read ${from}: ${error.message}`);
  process.exit(1);
}
// Start clean so a file removed from the sources does not linger in dist.
rmSync(to, { recursive: true, force: true });
for (const file of files) {
  mkdirSync(dirname(join(to, file)), { recursive: true });
  copyFileSync(join(from, file), join(to, file));
}
console.log(`copy-assets: ${files.length} files to dist/admin/dashboard/`);
