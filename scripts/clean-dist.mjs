#!/usr/bin/env node
/**
 * Empties dist/ before a build. tsc only writes files and never removes one, so a module that
 * was renamed or deleted in src/ would otherwise stay in dist/ and be packed and published
 * (with a source map pointing at a source that no longer exists).
 *
 * Usage: node scripts/clean-dist.mjs   (run by `npm run build`, before tsc)
 */
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

rmSync(join(dirname(fileURLToPath(import.meta.url)), "..", "dist"), {
  recursive: true,
  force: true,
});
