import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import { verifyChain } from "@/lib/monitoring/chain";
import { MetricsCollector } from "@/lib/monitoring/metrics";
import { GENESIS_HASH, SecurityEventLogger } from "@/lib/monitoring/security-events";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

const root = path.resolve(".");

interface Fixture {
  database: TestDatabase;
  prisma: PrismaClient;
  events: SecurityEventLogger;
}

const fixtures: Fixture[] = [];

async function freshLog(): Promise<Fixture> {
  const database = await createTestDatabase();
  const prisma = createPrismaClient(database.url);
  const fixture = { database, prisma, events: new SecurityEventLogger(prisma) };
  fixtures.push(fixture);
  return fixture;
}

async function writeEvents(events: SecurityEventLogger, count: number) {
  const rows = [];
  for (let i = 0; i < count; i++) {
    rows.push(
      await events.logEvent({
        type: "system",
        severity: "low",
        description: `event ${i}`,
        metadata: { i, nested: { b: 2, a: [1, 2.5, "x"] } },
      }),
    );
  }
  return rows;
}

// Runs SQL with triggers disabled for this session, as a database superuser could.
async function tamper(url: string, sql: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SET session_replication_role = replica");
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

function runScript(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

afterAll(async () => {
  for (const fixture of fixtures) {
    await fixture.prisma.$disconnect();
    await fixture.database.drop();
  }
});

describe("verifyChain", () => {
  it("verifies a valid chain of 40 events", async () => {
    const { prisma, events } = await freshLog();
    const rows = await writeEvents(events, 40);
    expect(rows[0].prevHash).toBe(GENESIS_HASH);

    const result = await verifyChain(prisma, { batchSize: 7 });

    expect(result.ok).toBe(true);
    expect(result.count).toBe(40);
    if (!result.ok) return;
    expect(result.headSequence).toBe(rows[39].sequence);
    expect(result.headHash).toBe(rows[39].hash);
    expect(result.sequenceGaps).toBe(0);
  });

  it("verifies an empty log", async () => {
    const { prisma } = await freshLog();
    const result = await verifyChain(prisma);
    expect(result).toEqual({
      ok: true,
      count: 0,
      headSequence: null,
      headHash: GENESIS_HASH,
      sequenceGaps: 0,
    });
  });

  it("reports an edited row at that row", async () => {
    const { database, prisma, events } = await freshLog();
    const rows = await writeEvents(events, 30);
    const edited = rows[16];
    await tamper(database.url, `UPDATE "SecurityEvent" SET description = $1 WHERE sequence = $2`, [
      "nothing happened",
      edited.sequence.toString(),
    ]);

    const result = await verifyChain(prisma, { batchSize: 10 });

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.firstBrokenSequence).toBe(edited.sequence);
    expect(result.kind).toBe("hash_mismatch");
    expect(result.count).toBe(16);
  });

  it("reports an edited metadata value", async () => {
    const { database, prisma, events } = await freshLog();
    const rows = await writeEvents(events, 5);
    await tamper(
      database.url,
      `UPDATE "SecurityEvent" SET metadata = jsonb_set(metadata, '{i}', '99') WHERE sequence = $1`,
      [rows[2].sequence.toString()],
    );

    const result = await verifyChain(prisma);

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.firstBrokenSequence).toBe(rows[2].sequence);
    expect(result.kind).toBe("hash_mismatch");
  });

  it("reports a deleted middle row", async () => {
    const { database, prisma, events } = await freshLog();
    const rows = await writeEvents(events, 30);
    await tamper(database.url, `DELETE FROM "SecurityEvent" WHERE sequence = $1`, [
      rows[12].sequence.toString(),
    ]);

    const result = await verifyChain(prisma, { batchSize: 12 });

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.firstBrokenSequence).toBe(rows[13].sequence);
    expect(result.kind).toBe("broken_link");
    expect(result.count).toBe(12);
  });

  it("reports a deleted first row", async () => {
    const { database, prisma, events } = await freshLog();
    const rows = await writeEvents(events, 4);
    await tamper(database.url, `DELETE FROM "SecurityEvent" WHERE sequence = $1`, [
      rows[0].sequence.toString(),
    ]);

    const result = await verifyChain(prisma);

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.firstBrokenSequence).toBe(rows[1].sequence);
    expect(result.kind).toBe("broken_link");
    expect(result.count).toBe(0);
  });

  it("accepts sequence gaps from rolled-back inserts", async () => {
    const { database, prisma, events } = await freshLog();
    await writeEvents(events, 3);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(`SELECT nextval(pg_get_serial_sequence('"SecurityEvent"', 'sequence'))`);
    await client.end();
    await writeEvents(events, 3);

    const result = await verifyChain(prisma);

    expect(result.ok).toBe(true);
    expect(result.count).toBe(6);
    if (!result.ok) return;
    expect(result.sequenceGaps).toBe(1);
  });

  it("cannot detect a deleted last row", async () => {
    const { database, prisma, events } = await freshLog();
    const rows = await writeEvents(events, 5);
    await tamper(database.url, `DELETE FROM "SecurityEvent" WHERE sequence = $1`, [
      rows[4].sequence.toString(),
    ]);

    const result = await verifyChain(prisma);

    // The documented limit: only a head hash kept elsewhere exposes the truncation.
    expect(result.ok).toBe(true);
    expect(result.count).toBe(4);
    if (!result.ok) return;
    expect(result.headHash).not.toBe(rows[4].hash);
  });

  it("keeps one chain under 8 writer processes", async () => {
    const { database, prisma } = await freshLog();
    const dir = mkdtempSync(path.join(tmpdir(), "qsfl-chain-"));
    const script = path.join(dir, "writer.mts");
    writeFileSync(
      script,
      [
        `import { createPrismaClient } from ${JSON.stringify(path.join(root, "lib/db/index.ts"))};`,
        `import { SecurityEventLogger } from ${JSON.stringify(path.join(root, "lib/monitoring/security-events.ts"))};`,
        "const prisma = createPrismaClient(process.env.DATABASE_URL);",
        "const events = new SecurityEventLogger(prisma);",
        "const writer = process.argv[2];",
        "for (let i = 0; i < 25; i++) {",
        "  const description = 'writer ' + writer + ' event ' + i;",
        "  await events.logEvent({ type: 'system', severity: 'low', description, metadata: { writer, i } });",
        "}",
        "await prisma.$disconnect();",
      ].join("\n"),
    );
    try {
      const runs = await Promise.all(
        Array.from({ length: 8 }, (_, writer) =>
          runScript([script, String(writer)], { DATABASE_URL: database.url }),
        ),
      );
      for (const run of runs) expect(run.stderr).toBe("");
      for (const run of runs) expect(run.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const result = await verifyChain(prisma, { batchSize: 64 });

    expect(result.ok).toBe(true);
    expect(result.count).toBe(200);
    const perWriter = await prisma.$queryRaw<{ writer: string; n: number }[]>`
      SELECT metadata->>'writer' AS writer, count(*)::int AS n
      FROM "SecurityEvent" GROUP BY 1 ORDER BY 1`;
    expect(perWriter).toEqual(Array.from({ length: 8 }, (_, w) => ({ writer: String(w), n: 25 })));
  });
});

describe("audit:verify script", () => {
  it("exits 0 with the count, then 1 at the broken row", async () => {
    const { database, events } = await freshLog();
    const rows = await writeEvents(events, 6);
    const env = { DATABASE_URL: database.url };

    const intact = await runScript(["scripts/audit-verify.ts"], env);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toContain("6 events verified");
    expect(intact.stdout).toContain(rows[5].hash);

    await tamper(
      database.url,
      `UPDATE "SecurityEvent" SET severity = 'critical' WHERE sequence = $1`,
      [rows[3].sequence.toString()],
    );
    const broken = await runScript(["scripts/audit-verify.ts"], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`BROKEN at sequence ${rows[3].sequence} (hash_mismatch)`);
    expect(broken.stderr).toContain(rows[3].id);
  });
});

describe("SecurityEventLogger queries and helpers", () => {
  let fixture: Fixture;
  const t0 = new Date("2026-03-01T00:00:00.000Z");
  const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

  beforeAll(async () => {
    fixture = await freshLog();
    const { events } = fixture;
    for (let i = 0; i < 12; i++) {
      await events.logEvent({
        type: i % 3 === 0 ? "authentication" : "system",
        severity: i % 2 === 0 ? "high" : "low",
        clientId: i % 4 === 0 ? "client-a" : "client-b",
        description: `seeded ${i}`,
        timestamp: at(i),
      });
    }
  });

  it("pages through a range by cursor", async () => {
    const seen: string[] = [];
    let cursor: bigint | null = null;
    let pages = 0;
    do {
      const page = await fixture.events.getEvents(at(2), at(9), null, { cursor, limit: 3 });
      seen.push(...page.events.map((e) => e.description));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null);
    expect(seen).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map((i) => `seeded ${i}`));
    expect(pages).toBe(3);
  });

  it("pages newest first", async () => {
    const first = await fixture.events.getEvents(at(0), at(11), null, { limit: 5, order: "desc" });
    const second = await fixture.events.getEvents(at(0), at(11), null, {
      limit: 5,
      order: "desc",
      cursor: first.nextCursor,
    });
    expect(first.events.map((e) => e.description)).toEqual(
      [11, 10, 9, 8, 7].map((i) => `seeded ${i}`),
    );
    expect(second.events.map((e) => e.description)).toEqual(
      [6, 5, 4, 3, 2].map((i) => `seeded ${i}`),
    );
  });

  it("filters by type, severity and client", async () => {
    const auth = await fixture.events.getEvents(at(0), at(11), "authentication");
    expect(auth.events.map((e) => e.description)).toEqual([0, 3, 6, 9].map((i) => `seeded ${i}`));
    const highA = await fixture.events.getEvents(at(0), at(11), null, {
      severity: "high",
      clientId: "client-a",
    });
    expect(highA.events.map((e) => e.description)).toEqual([0, 4, 8].map((i) => `seeded ${i}`));
    const several = await fixture.events.getEvents(at(0), at(11), "system", {
      severity: ["high", "critical"],
    });
    expect(several.events.map((e) => e.description)).toEqual(
      [2, 4, 8, 10].map((i) => `seeded ${i}`),
    );
    expect(several.nextCursor).toBeNull();
  });

  it("rejects invalid query arguments", async () => {
    const { events } = fixture;
    await expect(events.getEvents(at(5), at(1))).rejects.toThrow(/start .* is after end/);
    await expect(events.getEvents(at(0), at(1), null, { limit: 0 })).rejects.toThrow(
      /invalid limit 0/,
    );
    await expect(events.getEvents(at(0), at(1), null, { cursor: "abc" })).rejects.toThrow(
      /invalid cursor "abc"/,
    );
    await expect(events.getEvents(at(0), at(1), null, { cursor: -2 })).rejects.toThrow(
      /invalid cursor "-2"/,
    );
    await expect(events.getEvents(at(0), at(1), "bogus" as never)).rejects.toThrow(
      /invalid event type "bogus"/,
    );
    await expect(
      events.getEvents(at(0), at(1), null, { severity: "urgent" as never }),
    ).rejects.toThrow(/invalid severity "urgent"/);
  });

  it("helpers pick the documented severities", async () => {
    const { events } = fixture;
    const ok = await events.logAuthenticationEvent("client-c", true, { method: "ml-dsa" });
    const failed = await events.logAuthenticationEvent("client-c", false, { reason: "bad sig" });
    expect(ok.type).toBe("authentication");
    expect(ok.severity).toBe("low");
    expect(failed.severity).toBe("medium");
    expect(failed.metadata).toEqual({ reason: "bad sig", success: false });
    const [failures] = await new MetricsCollector(fixture.prisma).getLatestValues({
      names: ["auth_failures_total"],
    });
    expect(failures.value).toBe(1);

    const decapsulated = await events.logCryptographicEvent("decapsulate", true);
    const forged = await events.logCryptographicEvent("verify", false, { clientId: "client-c" });
    expect(decapsulated.severity).toBe("low");
    expect(forged.severity).toBe("high");
    expect(forged.clientId).toBe("client-c");
    expect(forged.metadata).toEqual({ clientId: "client-c", operation: "verify", success: false });

    const flagged = await events.logAnomalyEvent("client-c", 0.62, "excluded");
    const severe = await events.logAnomalyEvent("client-c", 0.91, "excluded");
    const quarantined = await events.logAnomalyEvent("client-c", 0.55, "quarantine");
    expect(flagged.type).toBe("anomaly_detection");
    expect(flagged.severity).toBe("medium");
    expect(severe.severity).toBe("high");
    expect(quarantined.severity).toBe("high");
    expect(flagged.metadata).toEqual({ score: 0.62, action: "excluded" });

    const action = await events.logOperatorAction("op-1", "revoke credential", {
      clientId: "client-c",
    });
    expect(action.type).toBe("operator_action");
    expect(action.operatorId).toBe("op-1");
    expect(action.clientId).toBe("client-c");
    expect(action.severity).toBe("low");

    const chain = await verifyChain(fixture.prisma);
    expect(chain.ok).toBe(true);
    expect(chain.count).toBe(12 + 8);
  });

  it("helpers reject invalid arguments", async () => {
    const { events } = fixture;
    await expect(events.logAnomalyEvent("client-c", 1.5, "flagged")).rejects.toThrow(
      /invalid anomaly score 1.5/,
    );
    await expect(events.logAnomalyEvent("client-c", Number.NaN, "flagged")).rejects.toThrow(
      /invalid anomaly score NaN/,
    );
    await expect(events.logOperatorAction("", "x")).rejects.toThrow(/invalid operatorId ""/);
    await expect(events.logCryptographicEvent("", true)).rejects.toThrow(/invalid operation/);
    await expect(events.logAuthenticationEvent("client-c", "yes" as never)).rejects.toThrow(
      /invalid success yes/,
    );
  });
});
