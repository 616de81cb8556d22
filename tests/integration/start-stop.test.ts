import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { descendants, freePort, identify, isStillRunning, waitFor } from "../helpers/processes";

interface RunningApp {
  process: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const home = mkdtempSync(path.join(tmpdir(), "qsfl-start-"));
// As root, PostgreSQL runs as the `postgres` user, which must be able to reach the data folder.
chmodSync(home, 0o755);
let webPort = 0;
let databasePort = 0;
let configFile = "";

async function startApp(): Promise<RunningApp> {
  if (!configFile) {
    webPort = await freePort();
    databasePort = await freePort();
    configFile = path.join(home, "config.yaml");
    const base = readFileSync("config/config.yaml", "utf8")
      .replace(/port: 3000/, `port: ${webPort}`)
      .replace(/embeddedPort: \d+/, `embeddedPort: ${databasePort}`)
      .replace(/^home: .*$/m, `home: ${path.join(home, "data")}`);
    writeFileSync(configFile, base);
  }
  const env: Record<string, string | undefined> = {
    ...process.env,
    QSFL_CONFIG: configFile,
    LOG_LEVEL: "warn",
  };
  delete env.DATABASE_URL;
  delete env.QSFL_ADMIN_PASSWORD;
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (chunk) => {
    text += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    text += chunk;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { process: child, output: () => text, exit };
}

interface HealthBody {
  database: { ok: boolean };
  workers: { alive: number; lastJobHandledAt: string | null; lastJobRoundTripMs: number | null };
}

async function health(): Promise<{ status: number; body: HealthBody } | undefined> {
  const response = await fetch(`http://127.0.0.1:${webPort}/api/health`);
  return { status: response.status, body: await response.json() };
}

async function stopAndCheck(app: RunningApp): Promise<void> {
  const processes = descendants(app.process.pid as number)
    .map(identify)
    .filter((p) => p !== undefined);
  expect(processes.length).toBeGreaterThanOrEqual(3);
  const started = Date.now();
  app.process.kill("SIGTERM");
  const result = await app.exit;
  const elapsed = Date.now() - started;
  expect(result, app.output()).toEqual({ code: 0, signal: null });
  expect(elapsed).toBeLessThan(10_000);
  // tsx's esbuild service processes exit when they notice their parent is gone; allow a moment.
  const deadline = Date.now() + 2_000;
  let survivors = processes.filter(isStillRunning);
  while (survivors.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    survivors = survivors.filter(isStillRunning);
  }
  expect(survivors.map((p) => `${p.pid} ${p.command}`)).toEqual([]);
}

describe("npm start on the embedded database", () => {
  const apps: RunningApp[] = [];

  // After a failed test, stop what is still running the same way users do (SIGTERM), so the web
  // server, worker and database are not orphaned; SIGKILL only if that does not work.
  afterAll(async () => {
    for (const app of apps) {
      if (app.process.exitCode !== null || app.process.signalCode !== null) continue;
      app.process.kill("SIGTERM");
      const stopped = await Promise.race([
        app.exit.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 12_000)),
      ]);
      if (!stopped) app.process.kill("SIGKILL");
    }
  });

  it("serves health, runs a job round trip, stops on SIGTERM", async () => {
    const app = await startApp();
    apps.push(app);
    await waitForBanner(app, 170_000);
    expect(app.output()).toMatch(
      /Generated admin password \(shown once, stored only hashed\): \S{12,}/,
    );

    const first = await health();
    expect(first?.status).toBe(200);
    expect(first?.body.database.ok).toBe(true);
    expect(first?.body.workers.alive).toBe(1);

    // Health polls make the web process enqueue a ping job; the worker handling it is the round trip.
    const roundTrip = await waitFor(
      "a ping job handled by the worker",
      async () => {
        const report = await health();
        return report?.body.workers.lastJobHandledAt ? report.body.workers : undefined;
      },
      30_000,
      500,
    );
    expect(roundTrip.lastJobRoundTripMs).toBeGreaterThanOrEqual(0);

    const login = await fetch(`http://127.0.0.1:${webPort}/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain("Sign in");

    // A worker that dies is replaced without taking the rest down.
    const worker = descendants(app.process.pid as number)
      .map(identify)
      .find((p) => p?.command.includes("workers/main.ts"));
    expect(worker).toBeDefined();
    process.kill(worker?.pid as number, "SIGKILL");
    await waitFor(
      "a replacement worker",
      async () => {
        const replacement = descendants(app.process.pid as number)
          .map(identify)
          .find((p) => p?.command.includes("workers/main.ts") && p.pid !== worker?.pid);
        return replacement ? true : undefined;
      },
      30_000,
    );
    expect(app.process.exitCode).toBeNull();

    const client = new pg.Client({ connectionString: databaseUrl() });
    await client.connect();
    await client.query(
      `INSERT INTO "Setting" (key, value, "updatedAt") VALUES ('marker', '"kept"', now())`,
    );
    await client.end();

    await stopAndCheck(app);
    await expect(canConnect(databaseUrl())).resolves.toBe(false);
  });

  it("second start reuses the data", async () => {
    const app = await startApp();
    apps.push(app);
    await waitForBanner(app, 120_000);
    expect(app.output()).not.toMatch(/Generated admin password/);

    const client = new pg.Client({ connectionString: databaseUrl() });
    await client.connect();
    const { rows } = await client.query(`SELECT value FROM "Setting" WHERE key = 'marker'`);
    const users = await client.query(`SELECT count(*)::int AS n FROM "User"`);
    await client.end();
    expect(rows[0]?.value).toBe("kept");
    expect(users.rows[0].n).toBe(1);

    await stopAndCheck(app);
  });
});

async function waitForBanner(app: RunningApp, timeoutMs: number): Promise<void> {
  try {
    await waitFor(
      "the start banner",
      async () => {
        if (app.process.exitCode !== null)
          throw new Error(`start exited with ${app.process.exitCode}`);
        return app.output().includes("is running at") ? true : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- output ---\n${app.output().slice(-4000)}`);
  }
}

function databaseUrl(): string {
  const state = JSON.parse(readFileSync(path.join(home, "data", "postgres.json"), "utf8"));
  return `postgresql://qsfl:${state.password}@127.0.0.1:${state.port}/qsfl`;
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
