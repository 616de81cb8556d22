import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import { AlertManager } from "@/lib/monitoring/alerts";
import { SecurityEventLogger } from "@/lib/monitoring/security-events";
import { getSecuritySummary } from "@/lib/monitoring/summary";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

let database: TestDatabase;
let prisma: PrismaClient;

const t0 = new Date("2026-07-01T08:00:00.000Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

async function seed(): Promise<void> {
  await prisma.federation.createMany({
    data: [
      { id: "F1", name: "federation one", modelSpec: {} },
      { id: "F2", name: "federation two", modelSpec: {} },
    ],
  });
  await prisma.round.createMany({
    data: [
      {
        id: "r1",
        federationId: "F1",
        number: 1,
        status: "published",
        quorum: 2,
        deadline: at(300),
        openedAt: at(0),
        closedAt: at(60),
        testAccuracy: 0.8,
        testLoss: 0.5,
      },
      {
        id: "r2",
        federationId: "F1",
        number: 2,
        status: "collecting",
        quorum: 2,
        deadline: at(420),
        openedAt: at(120),
      },
      {
        id: "s1",
        federationId: "F2",
        number: 1,
        status: "published",
        quorum: 1,
        deadline: at(300),
        openedAt: at(0),
        closedAt: at(50),
      },
    ],
  });
  await prisma.client.createMany({
    data: [
      { id: "c1", federationId: "F1" },
      { id: "c2", federationId: "F1" },
      { id: "c3", federationId: "F1", status: "quarantined" },
      { id: "d1", federationId: "F2", status: "quarantined" },
      { id: "d2" },
    ],
  });
  const updates: [string, string, "accepted" | "rejected" | "excluded", boolean | null][] = [
    ["r1", "c1", "accepted", false],
    ["r1", "c2", "accepted", null],
    ["r1", "c3", "excluded", true],
    ["r2", "c1", "accepted", null],
    ["r2", "c3", "rejected", true],
    ["s1", "d1", "accepted", true],
  ];
  for (const [index, [roundId, clientId, status, anomalous]] of updates.entries()) {
    const update = await prisma.modelUpdate.create({
      data: {
        roundId,
        clientId,
        status,
        nonce: Buffer.from([index]),
        digest: `d${index}`,
        sizeBytes: 10,
        baseModelVersion: 0,
        payload: Buffer.from([]),
      },
    });
    if (anomalous === null) continue;
    await prisma.anomalyScore.create({
      data: {
        updateId: update.id,
        roundId,
        clientId,
        score: anomalous ? 0.8 : 0.3,
        threshold: 0.5,
        isAnomalous: anomalous,
        featureNames: [],
        featureValues: [],
        shapValues: [],
        expectedValue: 0.4,
        explanation: "",
      },
    });
  }
  const snapshot = (clientId: string, roundId: string, quarantined: boolean) => ({
    clientId,
    roundId,
    quarantined,
    reputation: 0.5,
    influenceWeight: 0.5,
    consecutiveAnomalies: 0,
  });
  await prisma.reputationSnapshot.createMany({
    data: [snapshot("c1", "r1", false), snapshot("c3", "r1", true), snapshot("d1", "s1", true)],
  });

  const events = new SecurityEventLogger(prisma);
  const auth = async (clientId: string, success: boolean, seconds: number) =>
    events.logEvent({
      type: "authentication",
      severity: success ? "low" : "medium",
      clientId,
      description: "seeded",
      metadata: { success },
      timestamp: at(seconds),
    });
  await auth("c1", false, 10);
  await auth("c2", true, 20);
  await auth("c3", false, 130);
  await auth("d1", false, 15);
  await events.logEvent({
    type: "anomaly_detection",
    severity: "high",
    clientId: "c3",
    description: "seeded",
    timestamp: at(40),
  });
  // A failed cryptographic check also has success false, but is no authentication failure.
  await events.logEvent({
    type: "cryptographic",
    severity: "high",
    clientId: "c1",
    description: "seeded",
    metadata: { success: false },
    timestamp: at(30),
  });

  const alerts = new AlertManager(prisma, { notifier: null, events });
  await alerts.createAlert("a1", "x", "high", { now: at(0) });
  await alerts.createAlert("a2", "x", "high", { now: at(0) });
  const acknowledged = await alerts.createAlert("a3", "x", "critical", { now: at(0) });
  await alerts.acknowledgeAlert(acknowledged.alert.id, "op-1", "seen");
  const resolved = await alerts.createAlert("a4", "x", "low", { now: at(0) });
  await alerts.resolveAlert(resolved.alert.id, "op-1");
}

beforeAll(async () => {
  database = await createTestDatabase();
  prisma = createPrismaClient(database.url);
  await seed();
});

afterAll(async () => {
  await prisma?.$disconnect();
  await database?.drop();
});

describe("getSecuritySummary", () => {
  it("counts everything without a scope", async () => {
    const summary = await getSecuritySummary(prisma);
    expect(summary.anomaliesDetected).toBe(3);
    expect(summary.quarantinedClients).toBe(2);
    expect(summary.authenticationFailures).toBe(3);
    expect(summary.openAlerts).toEqual({ low: 0, medium: 0, high: 2, critical: 1, total: 3 });
    // 6 seeded events plus one per alert transition: 4 fired, 1 acknowledged, 1 resolved.
    expect(summary.events.total).toBe(12);
    expect(summary.events.byType.authentication).toBe(4);
    expect(summary.events.byType.operator_action).toBe(2);
    expect(summary.events.byType.system).toBe(4);
    expect(summary.rounds.map((r) => r.roundId).sort()).toEqual(["r1", "r2", "s1"]);
  });

  it("narrows to one federation", async () => {
    const summary = await getSecuritySummary(prisma, { federationId: "F1" });
    expect(summary.scope.federationId).toBe("F1");
    expect(summary.anomaliesDetected).toBe(2);
    expect(summary.quarantinedClients).toBe(1);
    expect(summary.authenticationFailures).toBe(2);
    expect(summary.events.total).toBe(5);
    expect(summary.openAlerts.total).toBe(3);
    expect(summary.rounds.map((r) => r.roundId)).toEqual(["r2", "r1"]);
    expect(summary.rounds[1]).toEqual({
      roundId: "r1",
      federationId: "F1",
      number: 1,
      status: "published",
      openedAt: at(0),
      closedAt: at(60),
      updatesAccepted: 2,
      updatesRejected: 0,
      updatesExcluded: 1,
      anomaliesDetected: 1,
      quarantinedClients: 1,
      testAccuracy: 0.8,
      testLoss: 0.5,
    });
    expect(summary.rounds[0]).toMatchObject({
      updatesAccepted: 1,
      updatesRejected: 1,
      anomaliesDetected: 1,
      quarantinedClients: 0,
      closedAt: null,
    });
  });

  it("narrows to one round", async () => {
    const summary = await getSecuritySummary(prisma, { roundId: "r1" });
    expect(summary.scope).toEqual({
      federationId: "F1",
      roundId: "r1",
      since: at(0),
      until: at(60),
    });
    expect(summary.anomaliesDetected).toBe(1);
    expect(summary.quarantinedClients).toBe(1);
    expect(summary.authenticationFailures).toBe(1);
    expect(summary.events.total).toBe(4);
    expect(summary.rounds.map((r) => r.roundId)).toEqual(["r1"]);
  });

  it("rejects an unknown or mismatched round", async () => {
    await expect(getSecuritySummary(prisma, { roundId: "nope" })).rejects.toThrow(
      /round not found/,
    );
    await expect(getSecuritySummary(prisma, { roundId: "s1", federationId: "F1" })).rejects.toThrow(
      /belongs to federation F2/,
    );
    await expect(getSecuritySummary(prisma, { roundLimit: -1 })).rejects.toThrow(
      /invalid roundLimit -1/,
    );
  });
});
