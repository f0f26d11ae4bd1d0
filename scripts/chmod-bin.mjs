#!/usr/bin/env node
/**
 * Marks the built CLI executable. tsc does not keep file modes, and without this step
 * `./dist/cli/main.js` and `npm link` fail in a checkout. (npm sets the mode of `bin` files
 * itself when the package is installed, so published installs never depend on it.)
 *
 * Usage: node scripts/chmod-bin.mjs   (run by `npm run build`, after tsc)
 */
import { chmodSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "dist/cli/main.js");
if (!existsSync(bin)) {
  console.error(`chmod-bin: ${bin} is missing; did tsc run?`);
  process.exit(1);
}
chmodSync(bin, 0o755);
