/**
 * Shared plumbing of the examples: configuration, a throwaway PostgreSQL database, success checks
 * and the entry point.
 *
 * Examples never touch the application's data. Each run creates its own database
 * (`qsfl_example_<random>`) on the server that the application would use: DATABASE_URL when it
 * is set, otherwise the embedded server in the configured home folder (.qsfl), started when it is
 * not running. The run migrates that database, drops it at the end (also after an error or
 * Ctrl-C), and stops the embedded server only when this process started it.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";
import type { AppConfig } from "@/lib/config";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import { migrate } from "@/lib/db/migrate";
import { resolveDatabase } from "@/lib/db/resolve";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MIGRATIONS_DIR = path.join(REPO_ROOT, "prisma", "migrations");
const DATABASE_PREFIX = "qsfl_example_";

/**
 * Returns `config` with security.allowServerGeneratedKeys on. registerClient generates client
 * keys on the server, which only a local demo may do. A real client enrolls with a token and
 * keeps its secret keys to itself.
 */
export function withServerGeneratedKeys(config: AppConfig): AppConfig {
  return { ...config, security: { ...config.security, allowServerGeneratedKeys: true } };
}

/** Returns a fresh random master key (64 hex characters) for this run's server keys. */
export function randomMasterKeyHex(): string {
  return randomBytes(32).toString("hex");
}

export interface ExampleDatabase {
  /** Name of the run's own database, qsfl_example_<12 hex characters>. */
  name: string;
  url: string;
  prisma: PrismaClient;
}

/**
 * Creates and migrates a database for one run, passes it to `body`, then drops it and stops the
 * embedded server if this process started it. SIGINT and SIGTERM run the same cleanup before the
 * process exits with 130 or 143.
 */
export async function withExampleDatabase<T>(
  config: AppConfig,
  body: (database: ExampleDatabase) => Promise<T>,
): Promise<T> {
  const server = await resolveDatabase(config);
  const adminUrl = server.embedded?.adminUrl ?? server.url;
  const name = `${DATABASE_PREFIX}${randomBytes(6).toString("hex")}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;

  let prisma: PrismaClient | undefined;
  // NOTE: a run killed with SIGKILL skips this cleanup and leaves its database behind.
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaned ??= (async () => {
      await prisma?.$disconnect().catch(() => {});
      try {
        await runAdminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } catch (error) {
        console.error(`Could not drop the example database ${name}: ${(error as Error).message}`);
      }
      await server.embedded?.stop();
    })();
    return cleaned;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal} received; dropping the example database.`);
    void cleanup().then(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    try {
      await runAdminQuery(adminUrl, `CREATE DATABASE "${name}"`);
    } catch (error) {
      throw new Error(
        `could not create the example database ${name} on ${url.host}: ${(error as Error).message}. ` +
          "The database user needs the CREATEDB privilege.",
        { cause: error },
      );
    }
    await migrate(url.toString(), MIGRATIONS_DIR);
    prisma = createPrismaClient(url.toString());
    const where = server.embedded
      ? `the embedded PostgreSQL on ${url.host}${server.embedded.owned ? ", started for this run" : ""}`
      : `the configured server ${url.host} (database.url or DATABASE_URL)`;
    console.log(`Using the throwaway database ${name} on ${where}.`);
    return await body({ name, url: url.toString(), prisma });
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await cleanup();
  }
}

async function runAdminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Success checks of one example: each prints PASS or FAIL with its description, and
 * `finish` prints the tally and returns the exit code (0 when every check passed, else 1).
 */
export class SuccessChecks {
  private passed = 0;
  private failed = 0;

  /** Records one check and returns whether it passed. */
  check(passed: boolean, description: string): boolean {
    if (passed) this.passed += 1;
    else this.failed += 1;
    console.log(`${passed ? "PASS" : "FAIL"} ${description}`);
    return passed;
  }

  finish(): number {
    const total = this.passed + this.failed;
    console.log(
      this.failed === 0
        ? `\nAll ${total} checks passed.`
        : `\n${this.failed} of ${total} checks FAILED.`,
    );
    return this.failed === 0 ? 0 : 1;
  }
}

/** Prints a section heading. */
export function heading(title: string): void {
  console.log(`\n=== ${title} ===`);
}

/** Formats a number with a fixed count of decimals, for aligned output. */
export function fixed(value: number, digits = 3): string {
  return value.toFixed(digits);
}

export type ExampleMain = () => Promise<number>;

/** Runs an example's main(), prints an error it throws, and exits with its code. */
export async function runExample(main: ExampleMain): Promise<never> {
  // A reader that closes the pipe early (`| head`) must not kill the run before its cleanup.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
  let code: number;
  try {
    code = await main();
  } catch (error) {
    console.error(`\nExample failed: ${error instanceof Error ? error.message : String(error)}`);
    code = 1;
  }
  // Exiting explicitly, because TensorFlow.js and pg pools can keep the event loop alive.
  process.exit(code);
}

/** Returns whether the module at `moduleUrl` is the script that node was started with. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(path.resolve(script)).href === moduleUrl;
}
