/**
 * Round closing through the in-process API on a real database: detection rejects attackers,
 * reputation quarantines them, the aggregate leaves them out, every round publishes exactly one
 * signed model, and a close interrupted before its commit is finished once by a retry.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "@/lib/config";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import { closeRound } from "@/lib/fl/rounds";
import { QSFLServer } from "@/lib/fl/server";
import { verifyChain } from "@/lib/monitoring/chain";
import { decodeSignedModel, verifySignedModel } from "@/lib/pq";
import { createRandom } from "@/lib/random";
import type { Weights } from "@/lib/tensors";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

const HONEST = Array.from({ length: 8 }, (_, i) => `honest-${i}`);
const ATTACKERS = ["attacker-0", "attacker-1"];
const random = createRandom(7);

function initialWeights(): Weights {
  // Drawn once per test file run; the federation stores them as model version 0.
  return [
    {
      name: "dense_0/kernel",
      shape: [20, 10],
      data: Float32Array.from({ length: 200 }, () => random.gaussian() * 0.1),
    },
    { name: "dense_0/bias", shape: [10], data: new Float32Array(10) },
  ];
}

// Honest clients move along one shared direction with a little noise; attackers scale it by -10.
const direction = Float32Array.from({ length: 210 }, () => random.gaussian() * 0.01);

function trained(global: Weights, attacker: boolean): Weights {
  let offset = 0;
  return global.map((t) => {
    const data = new Float32Array(t.data.length);
    for (let k = 0; k < data.length; k++) {
      const step = direction[offset + k] + random.gaussian() * 0.002;
      data[k] = t.data[k] + (attacker ? -10 * step : step);
    }
    offset += t.data.length;
    return { ...t, data };
  });
}

let database: TestDatabase;
let prisma: PrismaClient;
let server: QSFLServer;

beforeAll(async () => {
  database = await createTestDatabase();
  prisma = createPrismaClient(database.url);
  const config = parseConfig({ security: { allowServerGeneratedKeys: true } });
  server = await QSFLServer.create({
    prisma,
    config,
    masterKeyHex: "22".repeat(32),
    evaluate: async () => ({ accuracy: 0.5, loss: 1 }),
  });
  await server.createFederation({
    name: "rounds-test",
    modelSpec: { architecture: "test" },
    initialWeights: initialWeights(),
    plannedRounds: 5,
    minClients: 10,
  });
  for (const id of [...HONEST, ...ATTACKERS]) await server.registerClient(id);
});

afterAll(async () => {
  await prisma?.$disconnect();
  await database?.drop();
});

async function submitRound(roundId: string, global: Weights): Promise<void> {
  for (const id of [...HONEST, ...ATTACKERS]) {
    const update = await server.createModelUpdate(
      id,
      roundId,
      trained(global, id.startsWith("attacker")),
      { numSamples: 100 },
    );
    expect(await server.receiveClientUpdate(id, update)).toBe(true);
  }
}

describe("rounds", () => {
  it("rejects and quarantines attackers over rounds", async () => {
    let global = (await server.getGlobalModel(0)).weights;

    for (let r = 1; r <= 3; r++) {
      const roundId = await server.startTrainingRound();
      await submitRound(roundId, global);
      const model = await server.aggregateUpdates(roundId);
      expect(model.version).toBe(r);
      expect(model.metadata.accuracy).toBe(0.5);
      global = model.weights;

      const updates = await prisma.modelUpdate.findMany({
        where: { roundId },
        include: { anomalyScore: true },
      });
      for (const u of updates) {
        const attacker = u.clientId.startsWith("attacker");
        expect(u.status, `${u.clientId} round ${r}: ${u.reason}`).toBe(
          attacker ? "rejected" : "accepted",
        );
        expect(u.anomalyScore).not.toBeNull();
        const score = u.anomalyScore;
        if (!score) continue;
        const shap = score.shapValues as number[];
        const sum = shap.reduce((a, b) => a + b, 0);
        expect(Math.abs(score.expectedValue + sum - score.score)).toBeLessThan(1e-9);
      }
    }

    for (const id of ATTACKERS) expect(await server.isClientQuarantined(id)).toBe(true);
    for (const id of ATTACKERS) expect(await server.getClientInfluence(id)).toBe(0);
    for (const id of HONEST) expect(await server.isClientQuarantined(id)).toBe(false);
    for (const id of HONEST) expect(await server.getClientReputation(id)).toBeGreaterThan(0.5);

    const versions = await prisma.modelVersion.findMany({
      orderBy: { version: "asc" },
      select: { version: true },
    });
    expect(versions.map((v) => v.version)).toEqual([0, 1, 2, 3]);

    const signed = decodeSignedModel(
      server.distributeGlobalModel(
        await server.aggregateUpdates(
          (await prisma.round.findFirstOrThrow({ where: { number: 3 } })).id,
        ),
      ),
    );
    expect(signed.statement.version).toBe(3);
    expect(() => verifySignedModel(signed, server.serverPublicKeys.signing)).not.toThrow();

    const quarantineEvents = await prisma.securityEvent.count({
      where: { type: "anomaly_detection", severity: "critical" },
    });
    expect(quarantineEvents).toBe(2);
    expect(await prisma.metricPoint.count({ where: { name: "test_accuracy" } })).toBe(3);
    const chain = await verifyChain(prisma);
    expect(chain.ok).toBe(true);
  });

  it("closing a published round changes nothing", async () => {
    const round = await prisma.round.findFirstOrThrow({ where: { number: 1 } });
    const before = await prisma.modelVersion.count();
    const events = await prisma.securityEvent.count();
    const outcome = await closeRound(
      { prisma, serverKeys: await serverKeysOf() },
      round.id,
      "manual",
    );
    expect(outcome.status).toBe("skipped");
    expect(await prisma.modelVersion.count()).toBe(before);
    expect(await prisma.securityEvent.count()).toBe(events);
  });

  it("interrupted close is finished once", async () => {
    const roundId = await server.startTrainingRound();
    const base = await prisma.round.findUniqueOrThrow({
      where: { id: roundId },
      include: { baseModelVersion: true },
    });
    const global = (await server.getGlobalModel(base.baseModelVersion?.version)).weights;
    await submitRound(roundId, global);
    const serverKeys = await serverKeysOf();

    await expect(
      closeRound(
        {
          prisma,
          serverKeys,
          beforePublish: async () => {
            throw new Error("worker killed");
          },
        },
        roundId,
        "quorum",
      ),
    ).rejects.toThrow("worker killed");
    const stuck = await prisma.round.findUniqueOrThrow({ where: { id: roundId } });
    expect(stuck.status).toBe("aggregating");
    expect(await prisma.modelVersion.count({ where: { roundId } })).toBe(0);
    expect(await prisma.anomalyScore.count({ where: { roundId } })).toBe(0);

    const [a, b] = await Promise.allSettled([
      closeRound({ prisma, serverKeys }, roundId, "deadline"),
      closeRound({ prisma, serverKeys }, roundId, "deadline"),
    ]);
    const published = [a, b].filter(
      (r) => r.status === "fulfilled" && r.value.status === "published",
    );
    expect(published.length).toBe(1);
    expect(await prisma.modelVersion.count({ where: { roundId } })).toBe(1);
    const updates = await prisma.modelUpdate.findMany({ where: { roundId } });
    expect(updates.length).toBe(10);
    for (const u of updates) {
      expect(u.decidedAt).not.toBeNull();
      if (u.status !== "accepted") expect(u.reason).toBeTruthy();
    }
    const aggregationEvents = await prisma.securityEvent.count({
      where: { type: "aggregation", metadata: { path: ["roundId"], equals: roundId } },
    });
    expect(aggregationEvents).toBe(1);
  });
});

async function serverKeysOf() {
  const { getServerKeys, parseMasterKey } = await import("@/lib/auth/server-keys");
  return getServerKeys(prisma, parseMasterKey("22".repeat(32)));
}
