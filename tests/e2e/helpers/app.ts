/**
 * Starts the real application for one e2e test file: scripts/start.ts with a temporary
 * configuration (its own web and database ports, its own data folder) and a known admin password,
 * then waits for the start banner. The returned handle carries a Prisma client on the app's
 * embedded database, so tests can create accounts and read state through lib functions.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import { freePort, waitFor } from "../../helpers/processes";

export const ADMIN_EMAIL = "admin@qsfl.local";
export const ADMIN_PASSWORD = "e2e-admin-password-1";

export interface RunningApp {
  url: string;
  home: string;
  prisma: PrismaClient;
  databaseUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/** Replaces one top-level `key: value` line of the YAML configuration, which must exist. */
function setKey(yaml: string, pattern: RegExp, line: string): string {
  if (!pattern.test(yaml)) throw new Error(`config/config.yaml has no line matching ${pattern}`);
  return yaml.replace(pattern, line);
}

export async function startApp(options: { timeoutMs?: number } = {}): Promise<RunningApp> {
  const home = mkdtempSync(path.join(tmpdir(), "qsfl-e2e-"));
  // As root, PostgreSQL runs as the `postgres` user, which must be able to reach the data folder.
  chmodSync(home, 0o755);
  const webPort = await freePort();
  const databasePort = await freePort();
  let config = readFileSync("config/config.yaml", "utf8");
  config = setKey(config, /port: 3000/, `port: ${webPort}`);
  config = setKey(config, /embeddedPort: \d+/, `embeddedPort: ${databasePort}`);
  config = setKey(config, /^home: .*$/m, `home: ${path.join(home, "data")}`);
  const configFile = path.join(home, "config.yaml");
  writeFileSync(configFile, config);

  const env: Record<string, string | undefined> = {
    ...process.env,
    QSFL_CONFIG: configFile,
    QSFL_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: "warn",
  };
  delete env.DATABASE_URL;
  delete env.QSFL_MASTER_KEY;
  delete env.NEXTAUTH_SECRET;
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const collect = (chunk: Buffer) => {
    text += chunk.toString();
    if (text.length > 400_000) text = text.slice(-200_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  try {
    await waitFor(
      "the start banner",
      async () => {
        if (child.exitCode !== null) throw new Error(`start exited with ${child.exitCode}`);
        return text.includes("is running at") ? true : undefined;
      },
      options.timeoutMs ?? 240_000,
      250,
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n--- output ---\n${text.slice(-6000)}`);
  }

  const state = JSON.parse(readFileSync(path.join(home, "data", "postgres.json"), "utf8")) as {
    port: number;
    password: string;
  };
  const databaseUrl = `postgresql://qsfl:${state.password}@127.0.0.1:${state.port}/qsfl`;
  const prisma = createPrismaClient(databaseUrl);
  return {
    url: `http://127.0.0.1:${webPort}`,
    home,
    prisma,
    databaseUrl,
    output: () => text,
    stop: async () => {
      await prisma.$disconnect().catch(() => {});
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 12_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}
