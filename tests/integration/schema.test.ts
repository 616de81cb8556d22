import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "@/lib/db/migrate";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { describeCatalog, describeSchema, readDatamodel } from "../helpers/schema-catalog";

describe("migrations", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: true });
  });

  afterAll(async () => {
    await database?.drop();
  });

  it("produce exactly the schema in schema.prisma", async () => {
    const expected = describeSchema(readDatamodel());
    const actual = await describeCatalog(database.url);
    expect(actual).toEqual(expected);
    expect(expected.filter((line) => line.startsWith("table ")).length).toBeGreaterThanOrEqual(20);
  });

  it("comparison reports a drifted column", async () => {
    const drifted = await createTestDatabase({ migrate: true });
    try {
      const client = new pg.Client({ connectionString: drifted.url });
      await client.connect();
      await client.query(`ALTER TABLE "Round" ALTER COLUMN "quorum" DROP NOT NULL`);
      await client.query(`DROP INDEX "ModelUpdate_roundId_status_idx"`);
      await client.end();
      const actual = await describeCatalog(drifted.url);
      const expected = describeSchema(readDatamodel());
      expect(actual).toContain("column Round.quorum integer null default none");
      expect(expected).toContain("column Round.quorum integer not null default none");
      expect(actual).not.toContain(
        "index ModelUpdate_roundId_status_idx on ModelUpdate(roundId, status)",
      );
      expect(actual).not.toEqual(expected);
    } finally {
      await drifted.drop();
    }
  });

  it("second run applies nothing", async () => {
    const result = await migrate(database.url);
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied.length).toBeGreaterThanOrEqual(2);
  });

  it("records Prisma-compatible checksums", async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    await client.end();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const row of rows) {
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).not.toBeNull();
    }
  });

  it("security events reject update and delete", async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO "SecurityEvent" (id, type, severity, description, "prevHash", hash)
         VALUES ('e1', 'system', 'low', 'test', '0', 'h1')`,
      );
      await expect(client.query(`UPDATE "SecurityEvent" SET description = 'x'`)).rejects.toThrow(
        /append-only: UPDATE/,
      );
      await expect(client.query(`DELETE FROM "SecurityEvent"`)).rejects.toThrow(
        /append-only: DELETE/,
      );
      await expect(client.query(`TRUNCATE "SecurityEvent"`)).rejects.toThrow(
        /append-only: TRUNCATE/,
      );
    } finally {
      await client.end();
    }
  });

  it("edited migration is rejected", async () => {
    const { mkdtemp, cp, appendFile } = await import("node:fs/promises");
    const path = await import("node:path");
    const os = await import("node:os");
    const dir = await mkdtemp(path.join(os.tmpdir(), "qsfl-migrations-"));
    await cp("prisma/migrations", dir, { recursive: true });
    const first = (await import("node:fs"))
      .readdirSync(dir)
      .filter((n) => /^\d/.test(n))
      .sort()[0];
    await appendFile(path.join(dir, first, "migration.sql"), "\n-- edited\n");
    await expect(migrate(database.url, dir)).rejects.toThrow(/was changed after it was applied/);
  });
});
