/**
 * Applies the SQL migrations in prisma/migrations/ without Prisma's native schema engine, which
 * cannot be downloaded on offline machines.
 *
 * Bookkeeping uses Prisma Migrate's own `_prisma_migrations` table and checksum (SHA-256 of
 * migration.sql, hex), so a database migrated here is seen as up to date by `prisma migrate
 * deploy`, and one migrated by Prisma is accepted here. Each migration runs in its own
 * transaction under a session advisory lock, so concurrent starters apply it once.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

// The key Prisma Migrate also locks, so this runner and `prisma migrate` never interleave.
const MIGRATION_LOCK_KEY = 72707369;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  constructor(
    readonly migrationName: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "MigrationError";
  }
}

/** prisma/migrations of this checkout, wherever the process was started from. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(
  new URL("../../prisma/migrations", import.meta.url),
);

export async function readMigrations(dir = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const files: MigrationFile[] = [];
  for (const name of names) {
    const sql = await readFile(path.join(dir, name, "migration.sql"), "utf8");
    files.push({ name, sql, checksum: createHash("sha256").update(sql).digest("hex") });
  }
  return files;
}

/** Applies every migration of `dir` that the database at `databaseUrl` has not applied yet. */
export async function migrate(
  databaseUrl: string,
  dir = DEFAULT_MIGRATIONS_DIR,
): Promise<MigrationResult> {
  const migrations = await readMigrations(dir);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const { rows } = await client.query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
    }>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
       WHERE rolled_back_at IS NULL ORDER BY started_at`,
    );
    const recorded = new Map(rows.map((r) => [r.migration_name, r]));
    const result: MigrationResult = { applied: [], alreadyApplied: [] };

    for (const migration of migrations) {
      const row = recorded.get(migration.name);
      if (row?.finished_at == null && row) {
        throw new MigrationError(
          migration.name,
          `migration ${migration.name} started earlier but never finished; inspect the database, ` +
            `then mark it rolled back in "_prisma_migrations" (set rolled_back_at) and start again`,
        );
      }
      if (row) {
        if (!matchesChecksum(migration.sql, row.checksum)) {
          throw new MigrationError(
            migration.name,
            `migration ${migration.name} was changed after it was applied (checksum ` +
              `${row.checksum.slice(0, 12)}… in the database, ${migration.checksum.slice(0, 12)}… ` +
              `on disk); restore the file and add a new migration instead`,
          );
        }
        result.alreadyApplied.push(migration.name);
        continue;
      }
      await applyOne(client, migration);
      result.applied.push(migration.name);
    }

    const known = new Set(migrations.map((m) => m.name));
    const unknown = rows.filter((r) => !known.has(r.migration_name) && r.finished_at);
    if (unknown.length > 0) {
      throw new MigrationError(
        unknown[0].migration_name,
        `the database has migration ${unknown[0].migration_name} which is not in ${dir}; ` +
          "this code is older than the database, so run a newer release",
      );
    }
    return result;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    await client.end();
  }
}

// Like Prisma Migrate, accept a file whose line endings git converted between LF and CRLF.
function matchesChecksum(sql: string, checksum: string): boolean {
  const lf = sql.replace(/\r\n/g, "\n");
  const variants = [sql, lf, lf.replace(/\n/g, "\r\n")];
  return variants.some((text) => createHash("sha256").update(text).digest("hex") === checksum);
}

async function applyOne(client: pg.Client, migration: MigrationFile): Promise<void> {
  try {
    await client.query("BEGIN");
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations"
         (id, checksum, finished_at, migration_name, applied_steps_count)
       VALUES (gen_random_uuid()::text, $1, now(), $2, 1)`,
      [migration.checksum, migration.name],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw new MigrationError(
      migration.name,
      `migration ${migration.name} failed and was rolled back: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
