/**
 * Finding or starting the QSFL-CAAD server for command-line tools (the demo, benchmarks): reuse a
 * healthy server at the configured URL, or run `scripts/start.ts` as a child process and stop it
 * afterwards.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { type AppConfig, homeDir } from "../config";

export interface RunningServer {
  url: string;
  databaseUrl: string;
  /** The child process when this call started the server, null when it was already running. */
  child: ChildProcess | null;
  stop(): Promise<void>;
}

export async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Returns the URL of the database the server uses: DATABASE_URL, or the embedded one. */
export function serverDatabaseUrl(config: AppConfig): string {
  if (config.database.url) return config.database.url;
  const stateFile = path.join(homeDir(config), "postgres.json");
  if (!existsSync(stateFile)) {
    throw new Error(
      `no DATABASE_URL and no embedded database state in ${stateFile}; start the server first`,
    );
  }
  const state = JSON.parse(readFileSync(stateFile, "utf8")) as { port: number; password: string };
  return `postgresql://qsfl:${state.password}@127.0.0.1:${state.port}/qsfl`;
}

export async function ensureServer(
  config: AppConfig,
  options: {
    log?: (line: string) => void;
    startTimeoutMs?: number;
    /** Let the server outlive this process, with its output in <home>/server.log. */
    detached?: boolean;
  } = {},
): Promise<RunningServer> {
  const url = `http://${config.server.host}:${config.server.port}`;
  const log = options.log ?? (() => {});
  if (await isHealthy(url)) {
    log(`Using the server already running at ${url}.`);
    return { url, databaseUrl: serverDatabaseUrl(config), child: null, stop: async () => {} };
  }
  log(`Starting the server at ${url} (database, web server and worker)...`);
  const logFile = path.join(homeDir(config), "server.log");
  const detached = options.detached ?? false;
  let logFd: number | undefined;
  if (detached) {
    mkdirSync(homeDir(config), { recursive: true });
    logFd = openSync(logFile, "w");
  }
  const child = spawn(process.execPath, ["--import", "tsx", path.resolve("scripts/start.ts")], {
    env: process.env,
    detached,
    stdio: detached ? ["ignore", logFd, logFd] : ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  if (detached) {
    child.unref();
    log(`The server's output goes to ${logFile}.`);
  }
  const refresh = () => {
    if (detached) output = readFileSync(logFile, "utf8");
  };
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const deadline = Date.now() + (options.startTimeoutMs ?? 240_000);
  for (refresh(); !output.includes("is running at"); refresh()) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`the server did not start:\n${output.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const passwordLine = output
    .split("\n")
    .find((line) => line.startsWith("Generated admin password"));
  if (passwordLine) log(passwordLine);
  return {
    url,
    databaseUrl: serverDatabaseUrl(config),
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}
