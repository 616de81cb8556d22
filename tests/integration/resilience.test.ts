/**
 * Crashes in the middle of the work: a worker killed during a round close, and the web server
 * restarted while clients submit. Real processes (`next start`, workers/main.ts), real HTTP
 * clients (lib/client) and a real PostgreSQL.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueEnrollmentToken } from "@/lib/auth/enrollment";
import { getServerKeys, parseMasterKey } from "@/lib/auth/server-keys";
import { QSFLClient } from "@/lib/client";
import { parseConfig } from "@/lib/config";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import { createFederationFromSpec } from "@/lib/fl/create";
import { startFederation } from "@/lib/fl/federation";
import { decodePayload } from "@/lib/fl/rounds";
import { createRandom } from "@/lib/random";
import type { TensorSpec, Weights } from "@/lib/tensors";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { freePort, waitFor } from "../helpers/processes";

const require = createRequire(import.meta.url);
const MASTER_KEY = "33".repeat(32);
const CLIENTS = ["alpha", "bravo", "charlie"];

let database: TestDatabase;
let prisma: PrismaClient;
let webPort = 0;
let web: ChildProcess | null = null;
const workers: ChildProcess[] = [];
let federationId = "";
const clients = new Map<string, QSFLClient>();
const random = createRandom(11);

function baseEnv(): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: database.url,
    QSFL_MASTER_KEY: MASTER_KEY,
    NEXTAUTH_SECRET: "resilience-test-secret",
    LOG_LEVEL: "warn",
    NEXT_TELEMETRY_DISABLED: "1",
  };
  delete env.QSFL_CONFIG;
  return env as NodeJS.ProcessEnv;
}

function startWeb(): ChildProcess {
  const child = spawn(
    process.execPath,
    [require.resolve("next/dist/bin/next"), "start", "-H", "127.0.0.1", "-p", String(webPort)],
    { env: { ...baseEnv(), NODE_ENV: "production" }, stdio: "ignore" },
  );
  web = child;
  return child;
}

function startWorker(extraEnv: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "workers/main.ts"], {
    env: { ...baseEnv(), ...extraEnv },
    stdio: "ignore",
  });
  workers.push(child);
  return child;
}

async function serverKeysServed(): Promise<boolean | undefined> {
  const response = await fetch(`http://127.0.0.1:${webPort}/api/v1/server-keys`).catch(() => null);
  return response?.status === 200 ? true : undefined;
}

async function killAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await exited;
}

/** Returns a client's "training": the round's global weights plus a small random step. */
async function trainedWeights(roundId: string): Promise<{ weights: Weights; baseVersion: number }> {
  const round = await prisma.round.findUniqueOrThrow({
    where: { id: roundId },
    include: { baseModelVersion: true },
  });
  const base = round.baseModelVersion;
  if (!base) throw new Error("round without base model");
  const weights = decodePayload(base.weights, base.manifest as unknown as TensorSpec[]).map(
    (t) => ({
      ...t,
      data: t.data.map((v) => v + random.gaussian() * 0.001),
    }),
  );
  return { weights, baseVersion: base.version };
}

async function openRound(): Promise<string> {
  return waitFor(
    "an open round",
    async () => {
      const round = await prisma.round.findFirst({
        where: { federationId, status: { in: ["open", "collecting"] } },
        orderBy: { number: "desc" },
      });
      return round?.id;
    },
    60_000,
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  prisma = createPrismaClient(database.url);
  webPort = await freePort();
  startWeb();
  // /api/health returns 503 until a worker beats, so wait for a route that needs no worker.
  await waitFor("the web server", serverKeysServed, 60_000, 250);
  const serverKeys = await getServerKeys(prisma, parseMasterKey(MASTER_KEY));
  const federation = await createFederationFromSpec(prisma, serverKeys, parseConfig({}), {
    name: "resilience",
    modelSpec: { architecture: "mlp", hidden: [8] },
    plannedRounds: 2,
    minClients: CLIENTS.length,
    roundTimeoutSeconds: 600,
  });
  federationId = federation.id;
  const stateRoot = mkdtempSync(path.join(tmpdir(), "qsfl-resilience-"));
  for (const clientId of CLIENTS) {
    const token = await issueEnrollmentToken(prisma, { ttlMinutes: 10, clientId, federationId });
    const client = new QSFLClient({
      serverUrl: `http://127.0.0.1:${webPort}`,
      clientId,
      stateDir: path.join(stateRoot, clientId),
      retry: { maxRetries: 8, baseDelayMs: 300, maxDelayMs: 3000 },
    });
    await waitFor(
      "enrollment",
      async () => await client.enroll(token.token).then(() => true),
      60_000,
      1000,
    );
    clients.set(clientId, client);
  }
  await startFederation(prisma, federationId);
});

afterAll(async () => {
  for (const child of [...workers, ...(web ? [web] : [])]) await killAndWait(child, "SIGKILL");
  await prisma?.$disconnect();
  await database?.drop();
});

describe("resilience", () => {
  it("killed worker's round closes exactly once", async () => {
    const paused = startWorker({ QSFL_FAULT_PAUSE_BEFORE_PUBLISH_MS: "600000" });
    const roundId = await openRound();
    const { weights, baseVersion } = await trainedWeights(roundId);
    const accepted: string[] = [];
    for (const [clientId, client] of clients) {
      const result = await client.submitUpdate({
        federationId,
        roundId,
        baseModelVersion: baseVersion,
        numSamples: 50,
        weights,
      });
      expect(result.status, clientId).toBe("accepted");
      if (result.updateId) accepted.push(result.updateId);
    }
    expect(accepted.length).toBe(CLIENTS.length);

    await waitFor(
      "the close to reach aggregating",
      async () =>
        (await prisma.round.findUnique({ where: { id: roundId } }))?.status === "aggregating"
          ? true
          : undefined,
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await killAndWait(paused, "SIGKILL");
    expect(await prisma.modelVersion.count({ where: { roundId } })).toBe(0);

    startWorker();
    await waitFor(
      "the retried close to publish the round",
      async () =>
        (await prisma.round.findUnique({ where: { id: roundId } }))?.status === "published"
          ? true
          : undefined,
      180_000,
      1000,
    );
    expect(await prisma.modelVersion.count({ where: { roundId } })).toBe(1);
    expect(await prisma.modelVersion.count({ where: { federationId, version: 1 } })).toBe(1);
    const updates = await prisma.modelUpdate.findMany({ where: { roundId } });
    expect(updates.map((u) => u.id).sort()).toEqual([...accepted].sort());
    for (const update of updates) {
      expect(update.decidedAt, update.clientId).not.toBeNull();
      if (update.status !== "accepted") expect(update.reason, update.clientId).toBeTruthy();
    }
    const aggregationEvents = await prisma.securityEvent.count({
      where: { type: "aggregation", metadata: { path: ["roundId"], equals: roundId } },
    });
    expect(aggregationEvents).toBe(1);
  });

  it("clients survive a web server restart", async () => {
    const roundId = await openRound();
    const { weights, baseVersion } = await trainedWeights(roundId);
    const current = web;
    if (current) await killAndWait(current, "SIGKILL");
    const submissions = [...clients.values()].map((client) =>
      client.submitUpdate({
        federationId,
        roundId,
        baseModelVersion: baseVersion,
        numSamples: 50,
        weights,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    startWeb();
    const results = await Promise.all(submissions);
    for (const result of results) expect(["accepted", "duplicate"]).toContain(result.status);
    expect(results.some((r) => r.attempts > 1)).toBe(true);
    expect(await prisma.modelUpdate.count({ where: { roundId } })).toBe(CLIENTS.length);
    await waitFor(
      "round 2 to publish",
      async () =>
        (await prisma.round.findUnique({ where: { id: roundId } }))?.status === "published"
          ? true
          : undefined,
      120_000,
      1000,
    );
    expect(await prisma.modelVersion.count({ where: { federationId } })).toBe(3);
    const federation = await prisma.federation.findUniqueOrThrow({ where: { id: federationId } });
    expect(federation.status).toBe("completed");
  });
});
