/**
 * The dashboard's server side on a real database: the views that pages and JSON routes return
 * after real rounds (with an attacker rejected and quarantined), and the operator actions with
 * their state checks and security events. Roles and the browser are covered by tests/e2e.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperatorInputError } from "@/lib/auth/operators";
import { parseConfig } from "@/lib/config";
import { getClientDetail, getClientsPage, listClients } from "@/lib/dashboard/clients";
import { DashboardStateError } from "@/lib/dashboard/errors";
import { EVENT_PAGE_SIZE, getChainStatus, getEventPage } from "@/lib/dashboard/events";
import { getFederationDetail, getRoundDetail } from "@/lib/dashboard/federations";
import { getMetricsPage } from "@/lib/dashboard/metrics";
import {
  type Actor,
  createOperatorAccountByAdmin,
  issueEnrollmentTokenByOperator,
  quarantineClientByOperator,
  releaseClientByOperator,
  revokeClientByOperator,
  saveAlertRuleByOperator,
} from "@/lib/dashboard/operations";
import { getOverview } from "@/lib/dashboard/overview";
import { canPerform } from "@/lib/dashboard/permissions";
import { knownFailure } from "@/lib/dashboard/server-action";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import { QSFLServer } from "@/lib/fl/server";
import { SecurityEventLogger } from "@/lib/monitoring/security-events";
import { createRandom } from "@/lib/random";
import type { Weights } from "@/lib/tensors";
import { createFederationSchema, eventFiltersSchema } from "@/lib/validations/dashboard";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

const HONEST = Array.from({ length: 6 }, (_, i) => `honest-${i}`);
const ATTACKER = "attacker-0";
/** Clients that the operator-action tests quarantine, release and revoke; they send no update. */
const OPERATED = ["operated-0", "operated-1"];
const random = createRandom(5);
const config = parseConfig({ security: { allowServerGeneratedKeys: true } });

let database: TestDatabase;
let prisma: PrismaClient;
let server: QSFLServer;
let federationId = "";
let actor: Actor;

const direction = Float32Array.from({ length: 110 }, () => random.gaussian() * 0.01);

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

beforeAll(async () => {
  database = await createTestDatabase();
  prisma = createPrismaClient(database.url);
  server = await QSFLServer.create({
    prisma,
    config,
    masterKeyHex: "33".repeat(32),
    evaluate: async () => ({ accuracy: 0.8, loss: 0.5 }),
  });
  federationId = await server.createFederation({
    name: "dashboard-test",
    modelSpec: { architecture: "test" },
    initialWeights: [
      {
        name: "dense_0/kernel",
        shape: [10, 10],
        data: Float32Array.from({ length: 100 }, () => random.gaussian() * 0.1),
      },
      { name: "dense_0/bias", shape: [10], data: new Float32Array(10) },
    ],
    plannedRounds: 5,
    minClients: HONEST.length + 1,
  });
  for (const id of [...HONEST, ATTACKER, ...OPERATED]) await server.registerClient(id);
  const user = await prisma.user.create({
    data: { email: "ops@dashboard.test", passwordHash: "not-used", role: "operator" },
  });
  actor = { id: user.id, email: user.email, role: "operator" };
  const events = new SecurityEventLogger(prisma);
  for (let i = 0; i < EVENT_PAGE_SIZE + 5; i++) {
    await events.logOperatorAction(actor.id, "view page", { page: i });
  }
});

/** Runs two rounds with the attacker, then opens round 3 with two updates. */
async function runRounds(): Promise<void> {
  let global = (await server.getGlobalModel(0)).weights;
  for (let r = 1; r <= 2; r++) {
    const roundId = await server.startTrainingRound();
    for (const id of [...HONEST, ATTACKER]) {
      const update = await server.createModelUpdate(id, roundId, trained(global, id === ATTACKER), {
        numSamples: 50,
      });
      expect(await server.receiveClientUpdate(id, update)).toBe(true);
    }
    global = (await server.aggregateUpdates(roundId)).weights;
  }
  const open = await server.startTrainingRound();
  for (const id of HONEST.slice(0, 2)) {
    await server.receiveClientUpdate(id, await server.createModelUpdate(id, open, global));
  }
}

afterAll(async () => {
  await prisma?.$disconnect();
  await database?.drop();
});

async function lastOperatorAction() {
  const event = await prisma.securityEvent.findFirstOrThrow({
    where: { type: "operator_action" },
    orderBy: { sequence: "desc" },
  });
  return { event, metadata: event.metadata as Record<string, unknown> };
}

describe("operator actions", () => {
  it("quarantine and release record events", async () => {
    const input = { clientId: OPERATED[0], reason: "unusual traffic" };
    await quarantineClientByOperator(prisma, actor, input);
    const quarantined = await prisma.client.findUniqueOrThrow({ where: { id: OPERATED[0] } });
    expect(quarantined.status).toBe("quarantined");
    expect(quarantined.statusReason).toBe(`quarantine by ${actor.email}: unusual traffic`);
    const quarantineEvent = await lastOperatorAction();
    expect(quarantineEvent.metadata.action).toBe("quarantine client");
    expect(quarantineEvent.event.clientId).toBe(OPERATED[0]);
    expect(quarantineEvent.event.operatorId).toBe(actor.id);
    await expect(quarantineClientByOperator(prisma, actor, input)).rejects.toThrow(
      DashboardStateError,
    );

    await releaseClientByOperator(prisma, actor, { clientId: OPERATED[0], reason: "checked" });
    const released = await prisma.client.findUniqueOrThrow({ where: { id: OPERATED[0] } });
    expect(released.status).toBe("active");
    expect((await lastOperatorAction()).metadata.action).toBe("release client");
  });

  it("revoke revokes credentials once", async () => {
    const input = { clientId: OPERATED[1], reason: "key leaked" };
    const result = await revokeClientByOperator(prisma, actor, input);
    expect(result.credentialsRevoked).toBe(1);
    const client = await prisma.client.findUniqueOrThrow({ where: { id: OPERATED[1] } });
    expect(client.status).toBe("revoked");
    const revoked = await lastOperatorAction();
    expect(revoked.metadata.action).toBe("revoke client");
    expect(revoked.event.severity).toBe("high");
    await expect(revokeClientByOperator(prisma, actor, input)).rejects.toThrow("already revoked");
    await expect(
      releaseClientByOperator(prisma, actor, { clientId: OPERATED[1], reason: "undo" }),
    ).rejects.toThrow("it is revoked, expected quarantined");
    await expect(
      issueEnrollmentTokenByOperator(prisma, config, actor, { clientId: OPERATED[1] }),
    ).rejects.toThrow("cannot enroll again");
  });

  it("token event never contains the secret", async () => {
    const issued = await issueEnrollmentTokenByOperator(prisma, config, actor, {
      clientId: "newcomer-1",
      federationId,
    });
    const secret = issued.token.split(".")[1];
    expect(secret.length).toBeGreaterThanOrEqual(20);
    const { event, metadata } = await lastOperatorAction();
    expect(metadata.tokenId).toBe(issued.tokenId);
    expect(JSON.stringify(event.metadata)).not.toContain(secret);
    const stored = await prisma.enrollmentToken.findUniqueOrThrow({
      where: { id: issued.tokenId },
    });
    expect(stored.createdById).toBe(actor.id);
    expect(stored.federationId).toBe(federationId);
  });

  it("alert rule saves create then update", async () => {
    const rule = {
      name: "Quarantines",
      metric: "quarantined_clients",
      comparator: "gt" as const,
      threshold: 0,
      severity: "high" as const,
      forSeconds: 60,
      description: undefined,
      enabled: true,
    };
    await saveAlertRuleByOperator(prisma, config, actor, rule);
    expect((await lastOperatorAction()).metadata.action).toBe("create alert rule");
    await saveAlertRuleByOperator(prisma, config, actor, { ...rule, threshold: 2 });
    expect((await lastOperatorAction()).metadata.action).toBe("update alert rule");
    const stored = await prisma.alertRule.findUniqueOrThrow({ where: { name: "Quarantines" } });
    expect(stored.threshold).toBe(2);
  });

  it("account creation rejects duplicates and short passwords", async () => {
    const input = {
      email: "viewer@dashboard.test",
      role: "viewer" as const,
      password: "long-enough-pw",
    };
    const created = await createOperatorAccountByAdmin(prisma, actor, input);
    expect(created.email).toBe("viewer@dashboard.test");
    await expect(createOperatorAccountByAdmin(prisma, actor, input)).rejects.toThrow(
      "already exists",
    );
    const short = await createOperatorAccountByAdmin(prisma, actor, {
      ...input,
      email: "other@dashboard.test",
      password: "short",
    }).catch((error: unknown) => error);
    expect(short).toBeInstanceOf(OperatorInputError);
    expect(knownFailure(short)?.fieldErrors?.password).toMatch(/too short/);
    expect(knownFailure(new Error("boom"))).toBeNull();
  });
});

// NOTE: the operator actions run before any round closes in this process. After closeRound,
// top-level SecurityEventLogger writes fail with Prisma P2028, because lib/monitoring passes one
// shared options object to $transaction and Prisma 7 stores a nested transaction id in it.
describe("dashboard views", () => {
  beforeAll(runRounds);

  it("overview focuses the running federation", async () => {
    const overview = await getOverview(prisma);
    expect(overview.federations.length).toBe(1);
    expect(overview.focus?.federation.id).toBe(federationId);
    expect(overview.focus?.federation.status).toBe("running");
    expect(overview.focus?.currentRound?.number).toBe(3);
    expect(overview.focus?.currentRound?.updatesReceived).toBe(2);
    expect(overview.focus?.currentRound?.quorum).toBe(HONEST.length + 1);
    expect(overview.focus?.rounds.map((r) => r.number)).toEqual([1, 2, 3]);
    expect(overview.anomalies.total).toBe(2);
    expect(overview.anomalies.recent.every((a) => a.clientId === ATTACKER)).toBe(true);
    expect(overview.clients.total).toBe(HONEST.length + 1 + OPERATED.length);
    expect(overview.clients.quarantined).toBe(1);
    expect(overview.clients.revoked).toBe(1);
    // Plain JSON: the same shape whether a server component or a route handler sends it.
    expect(JSON.parse(JSON.stringify(overview))).toEqual(overview);
  });

  it("federation detail lists rounds oldest first", async () => {
    const detail = await getFederationDetail(prisma, federationId);
    const [first, second, third] = detail.rounds;
    expect(first.status).toBe("published");
    expect(first.accepted).toBe(HONEST.length);
    expect(first.rejected).toBe(1);
    expect(first.testAccuracy).toBe(0.8);
    expect(second.quarantined).toBe(1);
    expect(third.status).toBe("collecting");
    expect(detail.settings.detection.anomalyThreshold).toBe(config.detection.anomalyThreshold);
    expect(detail.settings.aggregation.rule).toBe(config.aggregation.rule);
  });

  it("round detail shows every update with its decision", async () => {
    const round = await getRoundDetail(prisma, federationId, 1);
    expect(round.updates.length).toBe(HONEST.length + 1);
    const attacker = round.updates.find((u) => u.clientId === ATTACKER);
    expect(attacker?.status).toBe("rejected");
    expect(attacker?.isAnomalous).toBe(true);
    expect(attacker?.reason).toMatch(/^anomaly score 0\.\d{3} above threshold/);
    const honest = round.updates.find((u) => u.clientId === HONEST[0]);
    expect(honest?.status).toBe("accepted");
    expect(honest?.influenceWeight).toBeGreaterThan(0);
    expect(round.round.modelVersion).toBe(1);

    const open = await getRoundDetail(prisma, federationId, 3);
    expect(open.updates.map((u) => u.status)).toEqual(["received", "received"]);
    await expect(getRoundDetail(prisma, federationId, 9)).rejects.toThrow("not found");
  });

  it("client detail SHAP values add up to each score", async () => {
    const detail = await getClientDetail(prisma, ATTACKER);
    expect(detail.client.status).toBe("quarantined");
    expect(detail.live).toBe(true);
    expect(detail.reputationHistory.map((h) => h.roundNumber)).toEqual([1, 2]);
    expect(detail.scoreHistory.every((h) => h.isAnomalous)).toBe(true);
    const scored = detail.updates.filter((u) => u.anomaly !== null);
    expect(scored.length).toBe(2);
    for (const update of scored) {
      const anomaly = update.anomaly as NonNullable<typeof update.anomaly>;
      const sum = anomaly.features.reduce((total, f) => total + f.shap, 0);
      expect(Math.abs(anomaly.expectedValue + sum - anomaly.score)).toBeLessThan(1e-9);
      expect(anomaly.features.every((f) => Number.isFinite(f.value))).toBe(true);
      expect(anomaly.explanation.length).toBeGreaterThan(0);
    }
    expect(detail.events.some((e) => e.severity === "critical")).toBe(true);
  });

  it("client list puts quarantined clients first", async () => {
    const clients = await listClients(prisma);
    expect(clients[0].id).toBe(ATTACKER);
    expect(clients[1].status).toBe("active");
    expect(clients[clients.length - 1].id).toBe(OPERATED[1]);
    expect(clients[clients.length - 1].status).toBe("revoked");
    const submitted = clients.filter((c) => !OPERATED.includes(c.id));
    expect(submitted.every((c) => c.lastSeenAt !== null)).toBe(true);
    const page = await getClientsPage(prisma);
    expect(page.live).toBe(true);
    expect(page.federations.map((f) => f.id)).toEqual([federationId]);
  });

  it("event pages follow the cursor", async () => {
    const total = await prisma.securityEvent.count();
    const all = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const result = await getEventPage(prisma, eventFiltersSchema.parse({ range: "1h", cursor }));
      for (const event of result.events) all.add(event.sequence);
      if (result.nextCursor === null) break;
      expect(result.events.length).toBe(EVENT_PAGE_SIZE);
      cursor = result.nextCursor;
    }
    expect(all.size).toBe(total);

    const anomalies = await getEventPage(
      prisma,
      eventFiltersSchema.parse({ type: "anomaly_detection", clientId: ATTACKER }),
    );
    expect(anomalies.events.length).toBeGreaterThan(0);
    expect(anomalies.events.every((e) => e.clientId === ATTACKER)).toBe(true);
    const sequences = anomalies.events.map((e) => BigInt(e.sequence));
    expect([...sequences].sort((a, b) => (a > b ? -1 : 1))).toEqual(sequences);

    const chain = await getChainStatus(prisma);
    expect(chain.ok).toBe(true);
    expect(chain.count).toBe(total);
  });

  it("metrics page defaults to test accuracy", async () => {
    const page = await getMetricsPage(prisma, { range: "1h" });
    expect(page.names.map((n) => n.name)).toContain("test_accuracy");
    expect(page.selected).toBe("test_accuracy");
    const points = page.chart?.series.flatMap((s) => s.points) ?? [];
    expect(points.length).toBe(2);
    expect(points.every((p) => p.value === 0.8)).toBe(true);
  });
});

describe("roles and schemas", () => {
  it("role table grants each role its actions", () => {
    expect(canPerform("viewer", "acknowledgeAlert")).toBe(false);
    expect(canPerform("viewer", "revokeClient")).toBe(false);
    expect(canPerform("operator", "revokeClient")).toBe(true);
    expect(canPerform("operator", "saveAlertRule")).toBe(true);
    expect(canPerform("operator", "createOperatorAccount")).toBe(false);
    expect(canPerform("admin", "createOperatorAccount")).toBe(true);
  });

  it("fixed clipping needs a maximum norm", () => {
    const base = {
      name: "f",
      architecture: "mlp",
      plannedRounds: "3",
      minClients: "2",
      roundTimeoutSeconds: "60",
      aggregationRule: "median",
      clipping: "fixed",
      maxNorm: "",
      anomalyThreshold: "0.6",
    };
    const missing = createFederationSchema.safeParse(base);
    expect(missing.success).toBe(false);
    expect(missing.error?.issues[0].path).toEqual(["maxNorm"]);
    const parsed = createFederationSchema.parse({ ...base, maxNorm: "5" });
    expect(parsed.maxNorm).toBe(5);
    expect(parsed.plannedRounds).toBe(3);
  });
});
