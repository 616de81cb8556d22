import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AttackError, applyDataAttack, applyModelAttack } from "@/lib/attacks";
import { type ProgressEvent, QSFLClient, runParticipant } from "@/lib/client";
import {
  type Dataset,
  initialWeights,
  initTensorFlow,
  loadMnist,
  ModelSpecError,
  selectSamples,
  trainLocal,
} from "@/lib/ml";
import { firstDifference } from "../ml/weights-diff";
import { MockQsflServer, rejection } from "./mock-server";

const SPEC = { architecture: "mlp" as const, hidden: [16], localEpochs: 1 };
const SEED = 7;

let data: Dataset;
let server: MockQsflServer;

beforeAll(async () => {
  await initTensorFlow();
  data = selectSamples(
    loadMnist(),
    Array.from({ length: 200 }, (_, i) => i),
  );
});

beforeEach(async () => {
  server = new MockQsflServer();
  server.modelSpec = SPEC;
  await server.start();
  server.publishModel(0, initialWeights(SPEC, 1));
  server.openRound(1, 0);
  // Each accepted update becomes the next global model, and the federation ends after round 2.
  server.onAccepted = (update) => {
    const round = server.round;
    if (round === null) return;
    server.publishModel(round.number, update.weights);
    if (round.number < server.plannedRounds) {
      server.openRound(round.number + 1, round.number);
    } else {
      round.status = "published";
      server.federationStatus = "completed";
    }
  };
});

afterEach(async () => {
  await server.close();
});

async function enrolled(clientId = "alice"): Promise<QSFLClient> {
  const client = new QSFLClient({
    serverUrl: server.url,
    clientId,
    stateDir: mkdtempSync(path.join(tmpdir(), "qsfl-participant-")),
    logger: { info: () => {}, warn: () => {} },
  });
  await client.enroll(server.issueToken());
  return client;
}

describe("runParticipant", () => {
  it("trains and submits each round", async () => {
    const client = await enrolled();
    const events: ProgressEvent[] = [];
    const summary = await runParticipant(client, {
      federationId: server.federationId,
      data,
      seed: SEED,
      pollIntervalMs: 20,
      onProgress: (event) => events.push(event),
    });
    expect(summary).toEqual({ federationStatus: "completed", roundsSubmitted: 2 });
    expect(server.updates.map((u) => u.baseModelVersion)).toEqual([0, 1]);
    expect(server.updates.map((u) => u.numSamples)).toEqual([200, 200]);

    const expected = await trainLocal(SPEC, initialWeights(SPEC, 1), data, { seed: SEED + 1 });
    expect(firstDifference(server.updates[0].weights, expected.weights)).toBeNull();

    const types = events.map((event) => event.type);
    expect(types).toEqual(["trained", "submitted", "trained", "submitted", "finished"]);
    const trained = events[0] as Extract<ProgressEvent, { type: "trained" }>;
    expect(trained.loss).toBe(expected.loss);
    expect(trained.accuracy).toBe(expected.accuracy);
    expect(trained.numSamples).toBe(200);
    const submitted = events[1] as Extract<ProgressEvent, { type: "submitted" }>;
    expect(submitted.status).toBe("accepted");
    expect(submitted.updateId).toBe(server.updates[0].updateId);
  });

  it("runs the malicious client attack", async () => {
    const client = await enrolled("mallory");
    const summary = await runParticipant(client, {
      federationId: server.federationId,
      data,
      seed: SEED,
      attack: { name: "malicious-client" },
      pollIntervalMs: 20,
      maxRounds: 1,
    });
    expect(summary.roundsSubmitted).toBe(1);

    // Round 1 uses seed 8 for training and attack; replaying both stages must give the update.
    const poisoned = applyDataAttack("malicious-client", data, { seed: SEED + 1 });
    expect(poisoned.poisonedIndices.length).toBe(40);
    const base = initialWeights(SPEC, 1);
    const trained = await trainLocal(
      SPEC,
      base,
      { images: data.images, labels: Uint8Array.from(poisoned.labels) },
      { seed: SEED + 1 },
    );
    const attacked = applyModelAttack(
      "malicious-client",
      { globalWeights: base, ownWeights: trained.weights },
      { seed: SEED + 1 },
    );
    expect(firstDifference(server.updates[0].weights, attacked.updates[0])).toBeNull();
    expect(firstDifference(server.updates[0].weights, trained.weights)).not.toBeNull();
  });

  it("rejects attacks one client cannot run", async () => {
    const client = await enrolled();
    const before = server.requests.length;
    for (const name of ["alie", "sybil"]) {
      await expect(
        runParticipant(client, { federationId: "fed-1", data, seed: 1, attack: { name } }),
      ).rejects.toThrow(AttackError);
    }
    await expect(
      runParticipant(client, { federationId: "fed-1", data, seed: 1, attack: { name: "nope" } }),
    ).rejects.toThrow(/unknown attack "nope"/);
    await expect(
      runParticipant(client, {
        federationId: "fed-1",
        data,
        seed: 1,
        attack: { name: "scaling", parameters: { lambda: "big" } },
      }),
    ).rejects.toThrow(/parameter "lambda" must be a number/);
    expect(server.requests.length).toBe(before);
  });

  it("skips a closed round", async () => {
    const client = await enrolled();
    server.intercept("/api/v1/updates", () => {
      server.federationStatus = "stopped";
      return rejection(409, "round_closed", "round 1 is aggregating");
    });
    const events: ProgressEvent[] = [];
    const summary = await runParticipant(client, {
      federationId: server.federationId,
      data,
      seed: SEED,
      pollIntervalMs: 20,
      onProgress: (event) => events.push(event),
    });
    expect(summary).toEqual({ federationStatus: "stopped", roundsSubmitted: 0 });
    const skipped = events.find((event) => event.type === "skipped");
    expect(skipped).toMatchObject({ round: 1, code: "round_closed" });
  });

  it("stops when aborted", async () => {
    const client = await enrolled();
    server.federationStatus = "created";
    server.round = null;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const events: ProgressEvent[] = [];
    const summary = await runParticipant(client, {
      federationId: server.federationId,
      data,
      seed: SEED,
      pollIntervalMs: 30,
      signal: controller.signal,
      onProgress: (event) => events.push(event),
    });
    expect(summary.federationStatus).toBe("aborted");
    expect(events.filter((event) => event.type === "waiting")).toHaveLength(1);
    expect(server.updates).toHaveLength(0);
  });

  it("rejects an invalid model spec", async () => {
    const client = await enrolled();
    server.modelSpec = { kind: "test" };
    await expect(
      runParticipant(client, { federationId: server.federationId, data, seed: 1 }),
    ).rejects.toThrow(ModelSpecError);
  });
});
