#!/usr/bin/env node
// Launcher of the qsfl-client CLI: runs lib/client/cli.ts in a child Node.js process with tsx's
// loader, passing every argument through and exiting with the child's exit code.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../lib/client/cli.ts", import.meta.url));
// Resolved from this file, so the launcher works from any working directory.
const tsx = import.meta.resolve("tsx");

const child = spawn(process.execPath, ["--import", tsx, cli, ...process.argv.slice(2)], {
  stdio: "inherit",
});

// Ctrl-C in a terminal reaches the child directly, because it shares the process group, so the
// launcher only ignores SIGINT. Signals sent to the launcher's pid alone are passed on.
process.on("SIGINT", () => {});
for (const signal of ["SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}

child.on("error", (error) => {
  process.stderr.write(`qsfl-client: could not start ${process.execPath}: ${error.message}\n`);
  process.exitCode = 1;
});
child.on("exit", (code, signal) => {
  process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0);
});
