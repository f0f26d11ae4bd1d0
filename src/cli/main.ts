#!/usr/bin/env node
/**
 * The `taskmill` binary: runs the CLI on this process's arguments and streams.
 *
 * @packageDocumentation
 */
import { runCli } from "./program.js";

// `taskmill tail | head -n 5`: once the reader is gone there is nobody left to tell, so a
// closed pipe ends the process quietly instead of crashing on an unhandled EPIPE.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

// exitCode rather than process.exit(): stdout may still hold output to flush into a pipe.
process.exitCode = await runCli(process.argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
