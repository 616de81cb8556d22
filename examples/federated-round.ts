/**
 * Federated rounds through the in-process server API, QSFLServer, on PostgreSQL: create a
 * federation, register five clients, and run four rounds of startTrainingRound,
 * createModelUpdate, receiveClientUpdate, aggregateUpdates, distributeGlobalModel and
 * getSecuritySummary.
 *
 * Updates are synthetic: honest clients move the 10-5-1 example model along a shared direction,
 * and client_5 boosts its delta tenfold, as the earlier system's mock attacker did. Every update
 * still goes through the real protocol: a post-quantum session (X-Wing), an AES-256-GCM payload
 * and an ML-DSA-65 signature, checked by the same intake as the REST API. registerClient
 * generates the client keys on the server, so the run turns security.allowServerGeneratedKeys on.
 *
 * Success: a replayed envelope and an update submitted under another client's id are rejected.
 * client_5's update is rejected in every round, and client_5 ends up quarantined while no honest
 * client does. Each distributed global model verifies against the server's public key, and a copy
 * with one flipped bit does not.
 */
import { loadConfig } from "@/lib/config";
import type { PrismaClient } from "@/lib/db";
import { QSFLServer } from "@/lib/fl/server";
import { decodeSignedModel, ML_DSA_65, verifySignedModel } from "@/lib/pq";
import { createRandom } from "@/lib/random";
import { parameterCount, type Weights } from "@/lib/tensors";
import {
  fixed,
  heading,
  isEntryPoint,
  randomMasterKeyHex,
  runExample,
  SuccessChecks,
  withExampleDatabase,
  withServerGeneratedKeys,
} from "./support";
import {
  EXAMPLE_LAYOUT,
  gaussianWeights,
  NORMAL_DISTRIBUTION,
  roundUpdate,
  sharedDirection,
} from "./synthetic-updates";

const CLIENTS = ["client_1", "client_2", "client_3", "client_4", "client_5"];
const MALICIOUS = "client_5";
const ROUNDS = 4;

/** Returns the description of the newest security event, which states why an update was rejected. */
async function latestEventDescription(prisma: PrismaClient): Promise<string> {
  const event = await prisma.securityEvent.findFirst({ orderBy: { sequence: "desc" } });
  return event?.description ?? "(no event)";
}

/** Returns a copy of `bytes` with one bit of byte `index` flipped. */
function flipBit(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] ^= 0x01;
  return copy;
}

export async function main(): Promise<number> {
  const config = withServerGeneratedKeys(loadConfig());
  const checks = new SuccessChecks();
  const random = createRandom(4);

  await withExampleDatabase(config, async ({ prisma }) => {
    heading("Server and federation");
    const server = await QSFLServer.create({ prisma, config, masterKeyHex: randomMasterKeyHex() });
    const initial = gaussianWeights(random, NORMAL_DISTRIBUTION);
    const federationId = await server.createFederation({
      name: "example federated rounds",
      modelSpec: { architecture: "example-10-5-1" },
      initialWeights: initial,
      plannedRounds: ROUNDS,
      minClients: CLIENTS.length,
    });
    console.log(
      `Federation ${federationId}: ${parameterCount(EXAMPLE_LAYOUT)} parameters, ${ROUNDS} rounds, ` +
        `aggregation rule ${config.aggregation.rule}.`,
    );
    for (const clientId of CLIENTS) {
      const keys = await server.registerClient(clientId);
      console.log(
        `Registered ${clientId} (credential serial ${keys.credential.credential.serial}).`,
      );
    }
    console.log(`${MALICIOUS} will boost its update tenfold.`);

    let global: Weights = (await server.getGlobalModel(0)).weights;
    let maliciousRejectedEveryRound = true;
    let modelsVerified = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      heading(`Round ${round}`);
      const roundId = await server.startTrainingRound();
      const direction = sharedDirection(random, parameterCount(EXAMPLE_LAYOUT), 0.01);
      for (const clientId of CLIENTS) {
        const weights = roundUpdate(random, global, direction, {
          noise: 0.003,
          factor: clientId === MALICIOUS ? 10 : 1,
        });
        const update = await server.createModelUpdate(clientId, roundId, weights, {
          numSamples: 100,
        });
        const accepted = await server.receiveClientUpdate(clientId, update);
        console.log(`  ${clientId}: update ${accepted ? "received" : "REJECTED at intake"}`);

        if (round === 1 && clientId === "client_1") {
          const replayed = await server.receiveClientUpdate(clientId, update);
          console.log(
            `  client_1 replays the same envelope: ${replayed ? "accepted" : "rejected"}`,
          );
          console.log(`    ${await latestEventDescription(prisma)}`);
          checks.check(!replayed, "a replayed update envelope is rejected");
          const disguised = await server.receiveClientUpdate("client_2", update);
          console.log(
            `  client_1's update submitted as client_2: ${disguised ? "accepted" : "rejected"}`,
          );
          console.log(`    ${await latestEventDescription(prisma)}`);
          checks.check(!disguised, "an update submitted under another client id is rejected");
        }
      }

      const model = await server.aggregateUpdates(roundId);
      const decisions = await prisma.modelUpdate.findMany({
        where: { roundId },
        orderBy: { clientId: "asc" },
        include: { anomalyScore: true },
      });
      for (const decision of decisions) {
        const score = decision.anomalyScore ? fixed(decision.anomalyScore.score) : "n/a";
        console.log(
          `  ${decision.clientId}: score ${score}, ${decision.status}` +
            (decision.reason ? ` (${decision.reason})` : ""),
        );
      }
      const maliciousDecision = decisions.find((d) => d.clientId === MALICIOUS);
      if (maliciousDecision?.status === "accepted") maliciousRejectedEveryRound = false;

      const download = server.distributeGlobalModel(model);
      const serverKey = server.serverPublicKeys.signing;
      let verified = false;
      try {
        verifySignedModel(decodeSignedModel(download), serverKey, EXAMPLE_LAYOUT);
        verified = true;
      } catch (error) {
        console.log(`  model verification failed: ${(error as Error).message}`);
      }
      let tamperedRejected = false;
      try {
        // The byte just before the signature is the payload's last weight byte.
        const weightByte = download.length - ML_DSA_65.signatureBytes - 1;
        verifySignedModel(decodeSignedModel(flipBit(download, weightByte)), serverKey);
      } catch {
        tamperedRejected = true;
      }
      if (verified && tamperedRejected) modelsVerified += 1;
      console.log(
        `  Published model version ${model.version} (${download.length} bytes signed with ML-DSA-65): ` +
          `${verified ? "signature verifies" : "signature FAILS"}, ` +
          `a copy with one flipped bit ${tamperedRejected ? "is rejected" : "VERIFIES"}`,
      );
      global = model.weights;

      const summary = await server.getSecuritySummary();
      console.log(
        `  Security summary: anomalies detected ${summary.anomaliesDetected}, ` +
          `quarantined clients ${summary.quarantinedClients}, ` +
          `authentication failures ${summary.authenticationFailures}, ` +
          `security events ${summary.events.total}`,
      );
    }

    heading("Clients after the last round");
    for (const clientId of CLIENTS) {
      console.log(
        `  ${clientId}: reputation ${fixed(await server.getClientReputation(clientId))}, ` +
          `influence ${fixed(await server.getClientInfluence(clientId))}, ` +
          `${(await server.isClientQuarantined(clientId)) ? "QUARANTINED" : "active"}`,
      );
    }
    checks.check(maliciousRejectedEveryRound, `${MALICIOUS}'s update is rejected in every round`);
    checks.check(await server.isClientQuarantined(MALICIOUS), `${MALICIOUS} is quarantined`);
    const honestQuarantined = [];
    for (const clientId of CLIENTS) {
      if (clientId !== MALICIOUS && (await server.isClientQuarantined(clientId))) {
        honestQuarantined.push(clientId);
      }
    }
    checks.check(honestQuarantined.length === 0, "no honest client is quarantined");
    checks.check(
      modelsVerified === ROUNDS,
      "every distributed model verifies and its tampered copy does not",
    );
  });

  return checks.finish();
}

if (isEntryPoint(import.meta.url)) void runExample(main);
