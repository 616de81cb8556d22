/**
 * `npm start`: one command that starts everything. It loads the configuration and starts the
 * embedded PostgreSQL when no DATABASE_URL is set. It applies migrations, creates the first admin
 * and builds the dashboard when the build is missing or stale. Then it runs the Next.js server
 * and a worker process and prints the URL and the first login. A child that dies is restarted.
 * SIGINT or SIGTERM stops the children,
 * then the database, within 10 seconds, and exits 0.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { ensureInitialAdmin } from "@/lib/auth/operators";
import { getServerKeys, parseMasterKey } from "@/lib/auth/server-keys";
import { ConfigError, homeDir, loadConfig } from "@/lib/config";
import { createPrismaClient } from "@/lib/db";
import { migrate } from "@/lib/db/migrate";
import { resolveDatabase } from "@/lib/db/resolve";
import { logger } from "@/lib/logger";
import { isBuildCurrent, writeBuildStamp } from "@/lib/system/build-stamp";
import { loadOrCreateSecrets } from "@/lib/system/secrets";

const require = createRequire(import.meta.url);
const CHILD_STOP_MS = 7_000;
const HEALTH_TIMEOUT_MS = 120_000;

const children: ChildProcess[] = [];
let stopping = false;
let stopDatabase: () => Promise<void> = async () => {};

async function main(): Promise<void> {
  process.on("SIGINT", () => void shutdown("SIGINT", 0));
  process.on("SIGTERM", () => void shutdown("SIGTERM", 0));

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const home = homeDir(config);
  const secrets = loadOrCreateSecrets(home);

  const database = await resolveDatabase(config);
  if (database.embedded?.owned) stopDatabase = database.embedded.stop;
  const migrations = await migrate(database.url);
  if (migrations.applied.length > 0)
    logger.info({ applied: migrations.applied }, "migrations applied");

  const prisma = createPrismaClient(database.url);
  const admin = await ensureInitialAdmin(
    prisma,
    config.auth.adminEmail,
    process.env.QSFL_ADMIN_PASSWORD,
  );
  const serverKeys = await getServerKeys(prisma, parseMasterKey(secrets.masterKey));
  await prisma.$disconnect();

  if (stopping) return;
  if (!isBuildCurrent()) {
    console.log("Building the dashboard (first start or changed sources)...");
    const nextBin = require.resolve("next/dist/bin/next");
    const build = spawnSync(process.execPath, [nextBin, "build"], {
      stdio: "inherit",
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    });
    if (build.status !== 0) {
      console.error(
        `The dashboard build failed (exit code ${build.status}); see the output above.`,
      );
      await shutdown("build failed", 1);
      return;
    }
    writeBuildStamp();
  }
  if (stopping) return;

  const url = `http://${config.server.host}:${config.server.port}`;
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: database.url,
    NEXTAUTH_SECRET: secrets.nextAuthSecret,
    NEXTAUTH_URL: url,
    QSFL_MASTER_KEY: secrets.masterKey,
    QSFL_METRICS_TOKEN: secrets.metricsToken,
    NEXT_TELEMETRY_DISABLED: "1",
  };

  const nextBin = require.resolve("next/dist/bin/next");
  startChild(
    "web",
    process.execPath,
    [nextBin, "start", "-H", config.server.host, "-p", String(config.server.port)],
    {
      ...childEnv,
      NODE_ENV: "production",
      QSFL_SERVICE: "web",
    },
  );
  startChild("worker", process.execPath, ["--import", "tsx", "workers/main.ts"], {
    ...childEnv,
    QSFL_SERVICE: "worker",
  });

  await waitForHealth(`${url}/api/health`);
  if (stopping) return;
  console.log("");
  console.log(`QSFL-CAAD is running at ${url}`);
  console.log(`Sign in as ${admin.email}`);
  if (admin.generatedPassword) {
    console.log(
      `Generated admin password (shown once, stored only hashed): ${admin.generatedPassword}`,
    );
  } else if (admin.created) {
    console.log("The admin password is the one set in QSFL_ADMIN_PASSWORD.");
  }
  console.log(`Server ML-DSA-65 key fingerprint (SHA-256): ${serverKeys.signing.fingerprint}`);
  console.log(`Server X-Wing key fingerprint (SHA-256):    ${serverKeys.kem.fingerprint}`);
  console.log("Press Ctrl-C to stop.");
}

// A child that dies is restarted, unless it died this many times within the window: then the
// fault is not transient and everything stops with exit code 1.
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 1_000;

function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): void {
  const restarts: number[] = [];
  const launch = () => {
    const child = spawn(command, args, { env, stdio: ["ignore", "inherit", "inherit"] });
    children.push(child);
    child.on("exit", (code, signal) => {
      children.splice(children.indexOf(child), 1);
      if (stopping) return;
      const now = Date.now();
      while (restarts.length > 0 && now - restarts[0] > RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length >= MAX_RESTARTS) {
        logger.error(
          { child: name, code, signal, restarts: restarts.length },
          "a child process keeps exiting; stopping",
        );
        void shutdown(`${name} exited`, 1);
        return;
      }
      restarts.push(now);
      logger.error(
        { child: name, code, signal },
        "a child process exited unexpectedly; restarting it",
      );
      setTimeout(() => {
        if (!stopping) launch();
      }, RESTART_DELAY_MS);
    });
  };
  launch();
}

async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let last = "no answer";
  while (!stopping && Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
      last = `HTTP ${response.status}: ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (!stopping) {
    logger.error({ url, last }, "the server did not become healthy in time");
    await shutdown("health timeout", 1);
  }
}

async function shutdown(reason: string, exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ reason }, "stopping QSFL-CAAD");
  const hardStop = setTimeout(() => {
    logger.error("shutdown took longer than 10 s; exiting");
    process.exit(1);
  }, 9_500);
  hardStop.unref();

  await Promise.all(children.map((child) => stopChild(child)));
  try {
    await stopDatabase();
  } catch (error) {
    logger.error({ err: error }, "stopping the embedded database failed");
    exitCode = 1;
  }
  process.exit(exitCode);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_STOP_MS);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

main().catch(async (error) => {
  logger.fatal({ err: error }, "start failed");
  await shutdown("start failed", 1);
});
