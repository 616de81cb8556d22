/**
 * `npm run bench:round`: the wall time of one federated round with and without the security
 * layer, and a load run of 1,000 clients submitting over HTTP to `next start`.
 *
 * Part 1 runs in this process against a real PostgreSQL. Every client trains the MLP
 * (784-128-10, 101,770 float32 parameters) for one local epoch on its own MNIST shard with
 * trainLocal. The SAME trained weights then go through two paths, so training is timed once per
 * round and counted in both:
 *  - secure: sealUpdate (AES-256-GCM under the session key, ML-DSA-65 signature), then
 *    receiveUpdateEnvelope (every intake check and the insert), then closeRound (detection,
 *    TreeSHAP, reputation, aggregation, signing, the publishing transaction, the round's events);
 *  - plain: the weights stored as one float32 row per client with no signature, encryption or
 *    detection, plain FedAvg (ModelAggregator, rule fedavg, no clipping), and the model written
 *    with the round's status in one transaction.
 * closeRound is timed whole. Its `beforePublish` hook splits it into computation and the
 * publishing tail (the publishing transaction plus finalizeRound). Detection and aggregation are
 * then timed apart by replaying the lib calls that closeRound makes (RoundDetector.scoreRound,
 * SHAPExplainer, ClientReputationManager, ModelAggregator) on the same stored updates and the
 * detector and reputation state from before the close. Neither path evaluates the new model.
 *
 * Part 2 starts `next start` and a worker (workers/main.ts) against a fresh database. It enrolls
 * the clients in process (AuthenticationService.registerClient) and opens one session per client
 * over HTTP. It seals every envelope before the clock starts, then submits them with a bounded
 * number of requests in flight while it samples the web server's memory every 100 ms.
 *
 * The database is DATABASE_URL's server when set (a maintenance URL: databases are created and
 * dropped on it), otherwise an embedded PostgreSQL in .qsfl/bench-<pid>, removed afterwards.
 * Everything listens on 127.0.0.1.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { ModelAggregator } from "@/lib/aggregation";
import { AuthenticationService, type SimulatedClientKeys } from "@/lib/auth/credentials";
import { getServerKeys, parseMasterKey, type ServerKeys } from "@/lib/auth/server-keys";
import { type AppConfig, parseConfig } from "@/lib/config";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "@/lib/db/embedded";
import { migrate } from "@/lib/db/migrate";
import {
  ClientReputationManager,
  RoundDetector,
  type SerializedReputationManager,
  type SerializedRoundDetector,
  SHAPExplainer,
} from "@/lib/detection";
import { createFederationFromSpec } from "@/lib/fl/create";
import { mnistTrainingSplit } from "@/lib/fl/evaluation";
import { federationSettings, startFederation } from "@/lib/fl/federation";
import { type IntakeContext, openSession, receiveUpdateEnvelope } from "@/lib/fl/intake";
import { closeRound, decodePayload } from "@/lib/fl/rounds";
import { aggregatorConfigFor, detectorOptionsFor, reputationOptionsFor } from "@/lib/fl/settings";
import { type Dataset, initTensorFlow, partitionIid, selectSamples, trainLocal } from "@/lib/ml";
import { createHandshake, sealUpdate, signModel } from "@/lib/pq";
import { createRandom } from "@/lib/random";
import { flattenWeights, parameterCount, type TensorSpec, type Weights } from "@/lib/tensors";

const require = createRequire(import.meta.url);
const MASTER_KEY = "5a".repeat(32);
const MODEL_SPEC = { architecture: "mlp", hidden: [128] } as const;
const OUT_DIR = path.resolve("docs", "benchmarks");

interface Options {
  /** Parts to measure; empty for `--part report`, which only rewrites round.md from round.json. */
  parts: Set<"round" | "load">;
  rounds: number;
  smallClients: number;
  smallShard: number;
  largeClients: number;
  largeShard: number;
  loadClients: number;
  concurrency: number;
  loadTimeoutS: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      part: { type: "string", default: "all" },
      rounds: { type: "string", default: "2" },
      "small-clients": { type: "string", default: "10" },
      "small-shard": { type: "string", default: "600" },
      "large-clients": { type: "string", default: "100" },
      "large-shard": { type: "string", default: "80" },
      "load-clients": { type: "string", default: "1000" },
      concurrency: { type: "string", default: "50" },
      "load-timeout": { type: "string", default: "900" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(`Usage: npm run bench:round -- [options]
  --part round|load|all|report
                          which part to run (default all); report rewrites round.md from
                          round.json without measuring
  --rounds N              rounds per client count in part 1 (default 2)
  --small-clients N       clients of the small federation (default 10)
  --small-shard N         MNIST digits per client there (default 600)
  --large-clients N       clients of the large federation (default 100)
  --large-shard N         MNIST digits per client there (default 80)
  --load-clients N        clients of the load run (default 1000)
  --concurrency N         requests in flight during the load run (default 50)
  --load-timeout S        seconds before the load run's submissions are abandoned (default 900)`);
    process.exit(0);
  }
  const integer = (name: string, value: string, min: number): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new RangeError(`invalid --${name} "${value}": expected an integer >= ${min}`);
    return n;
  };
  const part = values.part;
  if (part !== "round" && part !== "load" && part !== "all" && part !== "report")
    throw new RangeError(`invalid --part "${part}": expected round, load, all or report`);
  return {
    parts: new Set(part === "all" ? ["round", "load"] : part === "report" ? [] : [part]),
    rounds: integer("rounds", values.rounds, 1),
    smallClients: integer("small-clients", values["small-clients"], 2),
    smallShard: integer("small-shard", values["small-shard"], 10),
    largeClients: integer("large-clients", values["large-clients"], 2),
    largeShard: integer("large-shard", values["large-shard"], 10),
    loadClients: integer("load-clients", values["load-clients"], 1),
    concurrency: integer("concurrency", values.concurrency, 1),
    loadTimeoutS: integer("load-timeout", values["load-timeout"], 10),
  };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const max = (xs: number[]): number => xs.reduce((a, b) => Math.max(a, b), 0);
const round1 = (x: number): number => Math.round(x * 10) / 10;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** A PostgreSQL server and its maintenance URL, on which each part creates its own database. */
interface BenchDatabaseServer {
  adminUrl: string;
  embedded?: EmbeddedDatabase;
  home?: string;
}

async function startDatabaseServer(): Promise<BenchDatabaseServer> {
  if (process.env.DATABASE_URL) return { adminUrl: process.env.DATABASE_URL };
  const home = path.resolve(".qsfl", `bench-${process.pid}`);
  const embedded = await startEmbeddedPostgres(home, await freePort());
  return { adminUrl: embedded.adminUrl, embedded, home };
}

async function createDatabase(server: BenchDatabaseServer, label: string) {
  const name = `qsfl_bench_${label}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: server.adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

function intakeContext(
  prisma: PrismaClient,
  serverKeys: ServerKeys,
  config: AppConfig,
): IntakeContext {
  return {
    prisma,
    serverKeys,
    masterKey: parseMasterKey(MASTER_KEY),
    limits: {
      maxUpdateBytes: config.security.maxUpdateBytes,
      timestampSkewMs: config.security.timestampSkewSeconds * 1000,
      sessionLifetimeMs: config.security.sessionLifetimeSeconds * 1000,
      sessionMaxUpdates: config.security.sessionMaxUpdates,
    },
  };
}

// ---------------------------------------------------------------- part 1: round wall time

interface RoundMeasurement {
  round: number;
  clients: number;
  digitsPerClient: number;
  training: { sumMs: number; maxMs: number; perClientMs: number[] };
  secure: {
    sealSumMs: number;
    sealMaxMs: number;
    intakeSumMs: number;
    closeRoundMs: number;
    closeComputeMs: number;
    closePublishMs: number;
    replay: {
      loadDecodeMs: number;
      scoreRoundMs: number;
      shapMs: number;
      reputationMs: number;
      detectionMs: number;
      aggregationMs: number;
      signingMs: number;
      scored: boolean;
      included: number;
    };
    wallSummedMs: number;
    wallParallelMs: number;
  };
  plain: {
    storeSumMs: number;
    aggregationMs: number;
    persistenceMs: number;
    wallSummedMs: number;
    wallParallelMs: number;
  };
  ratioSummed: number;
  ratioParallel: number;
}

const PLAIN_SCHEMA = `
CREATE TABLE plain_update (round integer NOT NULL, client_id text NOT NULL,
  num_samples integer NOT NULL, payload bytea NOT NULL, PRIMARY KEY (round, client_id));
CREATE TABLE plain_model (version integer PRIMARY KEY, weights bytea NOT NULL,
  published_at timestamptz NOT NULL);
CREATE TABLE plain_round (number integer PRIMARY KEY, status text NOT NULL);`;

async function benchFederation(
  server: BenchDatabaseServer,
  training: Dataset,
  clients: number,
  digitsPerClient: number,
  rounds: number,
): Promise<RoundMeasurement[]> {
  const n = training.labels.length;
  if (clients * digitsPerClient > n)
    throw new RangeError(
      `${clients} clients x ${digitsPerClient} digits exceed the ${n} training digits`,
    );
  const database = await createDatabase(server, `round${clients}`);
  const prisma = createPrismaClient(database.url);
  const plainDb = new pg.Client({ connectionString: database.url });
  await plainDb.connect();
  try {
    await plainDb.query(PLAIN_SCHEMA);
    const config = parseConfig({ security: { allowServerGeneratedKeys: true } });
    const serverKeys = await getServerKeys(prisma, parseMasterKey(MASTER_KEY));
    const ctx = intakeContext(prisma, serverKeys, config);
    const federation = await createFederationFromSpec(prisma, serverKeys, config, {
      name: `bench round ${clients}`,
      modelSpec: MODEL_SPEC,
      plannedRounds: rounds + 1,
      minClients: clients,
      roundTimeoutSeconds: 3600,
      seed: 7,
    });
    const auth = new AuthenticationService(prisma, serverKeys, {
      allowServerGeneratedKeys: true,
      credentialLifetimeDays: 1,
    });
    // Shards come from a seeded IID partition of every training digit, cut to the shard size.
    const shards = partitionIid(n, clients, 3).map((indices) =>
      selectSamples(training, indices.subarray(0, digitsPerClient)),
    );
    const sessions: { keys: SimulatedClientKeys; sessionId: Uint8Array; sessionKey: Uint8Array }[] =
      [];
    for (let i = 0; i < clients; i++) {
      const keys = await auth.registerClient(`client-${String(i).padStart(4, "0")}`, federation.id);
      const { message, session } = createHandshake({
        clientId: keys.clientId,
        serverPublicKey: serverKeys.kem.publicKey,
        signingSecretKey: keys.signingSecretKey,
      });
      await openSession(ctx, message);
      sessions.push({ keys, sessionId: session.sessionId, sessionKey: session.sessionKey });
    }
    await startFederation(prisma, federation.id);
    let plainGlobal: Float32Array | null = null;

    const results: RoundMeasurement[] = [];
    for (let r = 1; r <= rounds; r++) {
      const round = await prisma.round.findFirstOrThrow({
        where: { federationId: federation.id, status: { in: ["open", "collecting"] } },
        include: { baseModelVersion: true, federation: true },
      });
      const base = round.baseModelVersion;
      if (!base) throw new Error(`round ${round.number} has no base model`);
      const manifest = base.manifest as unknown as TensorSpec[];
      const globalWeights = decodePayload(base.weights, manifest);

      // Training, once per client, shared by both paths.
      const trained: { weights: Weights; numSamples: number }[] = [];
      const trainMs: number[] = [];
      for (let i = 0; i < clients; i++) {
        const { value, ms } = await timed(() =>
          trainLocal(MODEL_SPEC, globalWeights, shards[i], { epochs: 1, seed: 100 * r + i }),
        );
        trained.push({ weights: value.weights, numSamples: value.numSamples });
        trainMs.push(ms);
      }

      // Secure path: seal, intake, closeRound.
      const detectorState = round.federation.detectorState;
      const reputationState = round.federation.reputationState;
      const sealMs: number[] = [];
      const intakeMs: number[] = [];
      for (let i = 0; i < clients; i++) {
        const s = sessions[i];
        const seal = await timed(() =>
          sealUpdate({
            clientId: s.keys.clientId,
            federationId: federation.id,
            roundId: round.id,
            baseModelVersion: base.version,
            numSamples: trained[i].numSamples,
            weights: trained[i].weights,
            sessionId: s.sessionId,
            sessionKey: s.sessionKey,
            signingSecretKey: s.keys.signingSecretKey,
          }),
        );
        sealMs.push(seal.ms);
        intakeMs.push((await timed(() => receiveUpdateEnvelope(ctx, seal.value))).ms);
      }
      let publishStart = 0;
      const closeStart = performance.now();
      const outcome = await closeRound(
        {
          prisma,
          serverKeys,
          beforePublish: async () => {
            publishStart = performance.now();
          },
        },
        round.id,
        "manual",
      );
      const closeEnd = performance.now();
      if (outcome.status !== "published")
        throw new Error(`round ${round.number} was not published: ${outcome.detail}`);
      const replay = await replayClose(prisma, round.id, {
        federationId: federation.id,
        version: round.number,
        settings: federationSettings(round.federation),
        manifest,
        globalWeights,
        detectorState,
        reputationState,
        serverSecretKey: serverKeys.signing.secretKey,
      });

      // Plain path: float32 rows, FedAvg, one publishing transaction.
      // NOTE: this path writes through node-postgres and the secure path through Prisma, so the
      // ratio also counts Prisma's overhead per query, which is not part of the security layer.
      if (!plainGlobal) plainGlobal = flattenWeights(globalWeights);
      await plainDb.query("INSERT INTO plain_round (number, status) VALUES ($1, 'open')", [r]);
      const storeMs: number[] = [];
      for (let i = 0; i < clients; i++) {
        const t = await timed(async () => {
          const flat = flattenWeights(trained[i].weights);
          await plainDb.query(
            "INSERT INTO plain_update (round, client_id, num_samples, payload) VALUES ($1, $2, $3, $4)",
            [r, sessions[i].keys.clientId, trained[i].numSamples, Buffer.from(flat.buffer)],
          );
        });
        storeMs.push(t.ms);
      }
      const aggregation = await timed(async () => {
        const rows = await plainDb.query<{
          client_id: string;
          num_samples: number;
          payload: Buffer;
        }>("SELECT client_id, num_samples, payload FROM plain_update WHERE round = $1", [r]);
        const inputs = rows.rows.map((row) => ({
          clientId: row.client_id,
          numSamples: row.num_samples,
          weights: decodePayload(row.payload, manifest),
        }));
        const baseFlat = plainGlobal ?? flattenWeights(globalWeights);
        const plainBase = decodePayload(
          new Uint8Array(baseFlat.buffer, baseFlat.byteOffset, baseFlat.byteLength),
          manifest,
        );
        return new ModelAggregator({ rule: { name: "fedavg" } }).aggregate(plainBase, inputs)
          .weights;
      });
      const persistence = await timed(async () => {
        const flat = flattenWeights(aggregation.value);
        await plainDb.query("BEGIN");
        await plainDb.query(
          "INSERT INTO plain_model (version, weights, published_at) VALUES ($1, $2, now())",
          [r, Buffer.from(flat.buffer)],
        );
        await plainDb.query("UPDATE plain_round SET status = 'published' WHERE number = $1", [r]);
        await plainDb.query("COMMIT");
        return flat;
      });
      plainGlobal = persistence.value;

      const trainSum = sum(trainMs);
      const trainMax = max(trainMs);
      const closeMs = closeEnd - closeStart;
      const secureServer = sum(intakeMs) + closeMs;
      const secureSummed = trainSum + sum(sealMs) + secureServer;
      // Clients train and seal at the same time on their own machines. The server's work stays
      // serial, as it is in this process.
      const secureParallel = max(trainMs.map((t, i) => t + sealMs[i])) + secureServer;
      const plainServer = sum(storeMs) + aggregation.ms + persistence.ms;
      const plainSummed = trainSum + plainServer;
      const plainParallel = trainMax + plainServer;
      const measurement: RoundMeasurement = {
        round: r,
        clients,
        digitsPerClient,
        training: { sumMs: trainSum, maxMs: trainMax, perClientMs: trainMs.map(round1) },
        secure: {
          sealSumMs: sum(sealMs),
          sealMaxMs: max(sealMs),
          intakeSumMs: sum(intakeMs),
          closeRoundMs: closeMs,
          closeComputeMs: publishStart - closeStart,
          closePublishMs: closeEnd - publishStart,
          replay,
          wallSummedMs: secureSummed,
          wallParallelMs: secureParallel,
        },
        plain: {
          storeSumMs: sum(storeMs),
          aggregationMs: aggregation.ms,
          persistenceMs: persistence.ms,
          wallSummedMs: plainSummed,
          wallParallelMs: plainParallel,
        },
        ratioSummed: secureSummed / plainSummed,
        ratioParallel: secureParallel / plainParallel,
      };
      results.push(measurement);
      console.log(
        `${clients} clients, round ${r}: training ${trainSum.toFixed(0)} ms (max ${trainMax.toFixed(0)}), ` +
          `seal ${sum(sealMs).toFixed(0)} ms, intake ${sum(intakeMs).toFixed(0)} ms, closeRound ${closeMs.toFixed(0)} ms ` +
          `(detection ${replay.detectionMs.toFixed(0)}, aggregation ${replay.aggregationMs.toFixed(0)}, publish ${(closeEnd - publishStart).toFixed(0)}); ` +
          `plain store ${sum(storeMs).toFixed(0)} ms, FedAvg ${aggregation.ms.toFixed(0)} ms, persist ${persistence.ms.toFixed(0)} ms; ` +
          `ratio summed ${measurement.ratioSummed.toFixed(3)}, parallel ${measurement.ratioParallel.toFixed(3)}`,
      );
    }
    return results;
  } finally {
    await plainDb.end();
    await prisma.$disconnect();
    await database.drop();
  }
}

/** Times the parts of a close by repeating closeRound's lib calls on the same stored inputs. */
async function replayClose(
  prisma: PrismaClient,
  roundId: string,
  input: {
    federationId: string;
    version: number;
    settings: ReturnType<typeof federationSettings>;
    manifest: TensorSpec[];
    globalWeights: Weights;
    detectorState: unknown;
    reputationState: unknown;
    serverSecretKey: Uint8Array;
  },
): Promise<RoundMeasurement["secure"]["replay"]> {
  const { settings } = input;
  const load = await timed(async () => {
    const rows = await prisma.modelUpdate.findMany({
      where: { roundId },
      orderBy: { clientId: "asc" },
    });
    return rows.map((row) => ({
      clientId: row.clientId,
      numSamples: row.numSamples ?? undefined,
      loss: row.reportedLoss ?? undefined,
      weights: decodePayload(row.payload, input.manifest),
    }));
  });
  const updates = load.value;
  const detector = input.detectorState
    ? RoundDetector.fromJSON(input.detectorState as SerializedRoundDetector)
    : new RoundDetector(detectorOptionsFor(settings.detection));
  let scores: ReturnType<RoundDetector["scoreRound"]> | null = null;
  let scoreRoundMs = 0;
  try {
    const scored = await timed(() =>
      detector.scoreRound({ globalWeights: input.globalWeights, updates }),
    );
    scores = scored.value;
    scoreRoundMs = scored.ms;
  } catch (error) {
    console.warn(`replay: the round could not be scored (${(error as Error).message})`);
  }
  const shap = await timed(() => {
    if (!scores) return;
    const explainer = new SHAPExplainer(scores.detector, { featureNames: scores.featureNames });
    for (const result of scores.results) explainer.explain(result.features, result.score);
  });
  const reputation = input.reputationState
    ? ClientReputationManager.fromJSON(input.reputationState as SerializedReputationManager)
    : new ClientReputationManager(
        reputationOptionsFor(settings.reputation, settings.detection.anomalyThreshold),
      );
  const reputationTime = await timed(() => {
    if (!scores) return;
    scores.results.forEach((result, i) => {
      reputation.updateReputation(updates[i].clientId, result.score, roundId);
    });
  });
  const included = updates.filter((u, i) => {
    if (scores?.results[i].isAnomalous) return false;
    return !reputation.isQuarantined(u.clientId) && reputation.getInfluenceWeight(u.clientId) > 0;
  });
  const aggregation = await timed(() => {
    if (included.length === 0) return input.globalWeights;
    const config = aggregatorConfigFor(settings.aggregation, included.length);
    const influence = Object.fromEntries(
      included.map((u) => [u.clientId, reputation.getInfluenceWeight(u.clientId)]),
    );
    return new ModelAggregator(config).aggregate(
      input.globalWeights,
      included,
      config.rule.name === "reputation" ? influence : undefined,
    ).weights;
  });
  const signing = await timed(() =>
    signModel(
      { federationId: input.federationId, version: input.version, weights: aggregation.value },
      input.serverSecretKey,
    ),
  );
  return {
    loadDecodeMs: load.ms,
    scoreRoundMs,
    shapMs: shap.ms,
    reputationMs: reputationTime.ms,
    detectionMs: scoreRoundMs + shap.ms + reputationTime.ms,
    aggregationMs: aggregation.ms,
    signingMs: signing.ms,
    scored: scores !== null,
    included: included.length,
  };
}

// ---------------------------------------------------------------- part 2: load run

interface LoadResult {
  clients: number;
  concurrency: number;
  parameters: number;
  envelopeBytes: number;
  enrollMs: number;
  sessionsMs: number;
  sessionFailures: number;
  sealMs: number;
  submitWallMs: number;
  updatesPerSecond: number;
  statusCounts: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number; mean: number };
  webPeakRssMiB: number;
  webVmHwmMiB: number;
  webProcesses: number;
  rows: number;
  distinctClients: number;
  duplicateClients: number;
  acceptedWithoutRow: number;
  rowsWithoutAccepted: number;
  exactlyOnce: boolean;
  abandoned: number;
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSafe("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // The process exited between the listing and the read.
    }
  }
  return out.flatMap((child) => [child, ...childPids(child)]);
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function statusKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(
      new RegExp(`^${field}:\\s+(\\d+) kB`, "m"),
    );
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Samples the summed VmRSS of a process tree every 100 ms and keeps each process's VmHWM. */
function startRssSampler(rootPid: number) {
  let peakKiB = 0;
  const hwm = new Map<number, number>();
  const sample = () => {
    const pids = [rootPid, ...childPids(rootPid)];
    let total = 0;
    for (const pid of pids) {
      total += statusKiB(pid, "VmRSS");
      hwm.set(pid, Math.max(hwm.get(pid) ?? 0, statusKiB(pid, "VmHWM")));
    }
    peakKiB = Math.max(peakKiB, total);
  };
  sample();
  const timer = setInterval(sample, 100);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return { peakKiB, hwmKiB: sum([...hwm.values()]), processes: hwm.size };
    },
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

async function runPool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  });
  await Promise.all(lanes);
}

async function loadRun(server: BenchDatabaseServer, options: Options): Promise<LoadResult> {
  const database = await createDatabase(server, "load");
  const prisma = createPrismaClient(database.url);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: database.url,
    QSFL_MASTER_KEY: MASTER_KEY,
    NEXTAUTH_SECRET: "bench-round-secret",
    LOG_LEVEL: "warn",
    NEXT_TELEMETRY_DISABLED: "1",
  };
  delete env.QSFL_CONFIG;
  const childEnv = env as NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];
  try {
    const web = spawn(
      process.execPath,
      [require.resolve("next/dist/bin/next"), "start", "-H", "127.0.0.1", "-p", String(port)],
      { env: { ...childEnv, NODE_ENV: "production" }, stdio: "ignore" },
    );
    children.push(web);
    children.push(
      spawn(process.execPath, ["--import", "tsx", "workers/main.ts"], {
        env: childEnv,
        stdio: "ignore",
      }),
    );
    await waitFor(
      "the web server",
      async () => {
        const response = await fetch(`${baseUrl}/api/v1/server-keys`);
        return response.status === 200 ? true : undefined;
      },
      120_000,
    );
    const webPid = web.pid;
    if (webPid === undefined) throw new Error("next start has no pid");

    const config = parseConfig({});
    const serverKeys = await getServerKeys(prisma, parseMasterKey(MASTER_KEY));
    // minClients is one more than the clients, so no quorum close runs during the count.
    const federation = await createFederationFromSpec(prisma, serverKeys, config, {
      name: "bench load",
      modelSpec: MODEL_SPEC,
      plannedRounds: 1,
      minClients: options.loadClients + 1,
      roundTimeoutSeconds: 3600,
      seed: 9,
    });
    const auth = new AuthenticationService(prisma, serverKeys, {
      allowServerGeneratedKeys: true,
      credentialLifetimeDays: 1,
    });
    const enroll = await timed(async () => {
      const keys: SimulatedClientKeys[] = [];
      for (let i = 0; i < options.loadClients; i++)
        keys.push(await auth.registerClient(`load-${String(i).padStart(5, "0")}`, federation.id));
      return keys;
    });
    console.log(`load: enrolled ${options.loadClients} clients in ${enroll.ms.toFixed(0)} ms`);
    const round = await startFederation(prisma, federation.id);
    const base = await prisma.modelVersion.findFirstOrThrow({
      where: { federationId: federation.id, version: 0 },
    });
    const manifest = base.manifest as unknown as TensorSpec[];
    const globalWeights = decodePayload(base.weights, manifest);

    const sessions: ({ sessionId: Uint8Array; sessionKey: Uint8Array } | null)[] = [];
    let sessionFailures = 0;
    const sessionsTime = await timed(() =>
      runPool(
        enroll.value.map((keys, i) => ({ keys, i })),
        options.concurrency,
        async ({ keys, i }) => {
          const { message, session } = createHandshake({
            clientId: keys.clientId,
            serverPublicKey: serverKeys.kem.publicKey,
            signingSecretKey: keys.signingSecretKey,
          });
          const response = await fetch(`${baseUrl}/api/v1/sessions`, {
            method: "POST",
            headers: { "content-type": "application/octet-stream" },
            body: new Uint8Array(message),
            signal: AbortSignal.timeout(60_000),
          }).catch(() => null);
          if (response?.status === 201) sessions[i] = session;
          else {
            sessions[i] = null;
            sessionFailures++;
          }
          await response?.arrayBuffer();
        },
      ),
    );
    console.log(
      `load: ${options.loadClients - sessionFailures} sessions opened over HTTP in ${sessionsTime.ms.toFixed(0)} ms`,
    );

    const random = createRandom(5);
    const sealed = await timed(() =>
      enroll.value.map((keys, i) => {
        const session = sessions[i];
        if (!session) return null;
        const weights = globalWeights.map((t) => ({
          ...t,
          data: t.data.map((v) => v + random.gaussian() * 0.001),
        }));
        return sealUpdate({
          clientId: keys.clientId,
          federationId: federation.id,
          roundId: round.id,
          baseModelVersion: 0,
          numSamples: 100,
          weights,
          sessionId: session.sessionId,
          sessionKey: session.sessionKey,
          signingSecretKey: keys.signingSecretKey,
        });
      }),
    );
    console.log(`load: sealed ${sealed.value.length} envelopes in ${sealed.ms.toFixed(0)} ms`);

    const latencies: number[] = [];
    const statusCounts: Record<string, number> = {};
    const accepted = new Map<string, string>();
    let abandoned = 0;
    const stopAt = Date.now() + options.loadTimeoutS * 1000;
    const sampler = startRssSampler(webPid);
    const submitStart = performance.now();
    await runPool(
      sealed.value.map((body, i) => ({ body, clientId: enroll.value[i].clientId })),
      options.concurrency,
      async ({ body, clientId }) => {
        if (!body) return;
        if (Date.now() > stopAt) {
          abandoned++;
          return;
        }
        const start = performance.now();
        let status = "network_error";
        try {
          const response = await fetch(`${baseUrl}/api/v1/updates`, {
            method: "POST",
            headers: { "content-type": "application/octet-stream" },
            body: new Uint8Array(body),
            signal: AbortSignal.timeout(120_000),
          });
          status = String(response.status);
          const json = (await response.json()) as { updateId?: string };
          if (response.status === 202 && json.updateId) accepted.set(json.updateId, clientId);
        } catch (error) {
          // NOTE: the cause of a network error (reset, closed socket) is not recorded yet.
          status = (error as Error).name === "TimeoutError" ? "timeout" : "network_error";
        }
        latencies.push(performance.now() - start);
        statusCounts[status] = (statusCounts[status] ?? 0) + 1;
      },
    );
    const submitWallMs = performance.now() - submitStart;
    const memory = sampler.stop();

    const rows = await prisma.modelUpdate.findMany({
      where: { roundId: round.id },
      select: { id: true, clientId: true },
    });
    const perClient = new Map<string, number>();
    for (const row of rows) perClient.set(row.clientId, (perClient.get(row.clientId) ?? 0) + 1);
    const rowIds = new Set(rows.map((row) => row.id));
    const acceptedWithoutRow = [...accepted.keys()].filter((id) => !rowIds.has(id)).length;
    const rowsWithoutAccepted = rows.filter((row) => !accepted.has(row.id)).length;
    const duplicateClients = [...perClient.values()].filter((count) => count > 1).length;
    const sorted = [...latencies].sort((a, b) => a - b);
    const envelopeBytes = sealed.value.find((b) => b)?.length ?? 0;
    return {
      clients: options.loadClients,
      concurrency: options.concurrency,
      parameters: parameterCount(manifest),
      envelopeBytes,
      enrollMs: enroll.ms,
      sessionsMs: sessionsTime.ms,
      sessionFailures,
      sealMs: sealed.ms,
      submitWallMs,
      updatesPerSecond: (statusCounts["202"] ?? 0) / (submitWallMs / 1000),
      statusCounts,
      latencyMs: {
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        max: sorted[sorted.length - 1] ?? Number.NaN,
        mean: sum(latencies) / Math.max(1, latencies.length),
      },
      webPeakRssMiB: memory.peakKiB / 1024,
      webVmHwmMiB: memory.hwmKiB / 1024,
      webProcesses: memory.processes,
      rows: rows.length,
      distinctClients: perClient.size,
      duplicateClients,
      acceptedWithoutRow,
      rowsWithoutAccepted,
      exactlyOnce:
        duplicateClients === 0 &&
        acceptedWithoutRow === 0 &&
        rowsWithoutAccepted === 0 &&
        rows.length === accepted.size,
      abandoned,
    };
  } finally {
    for (const child of children) await killAndWait(child);
    await prisma.$disconnect();
    await database.drop();
  }
}

// ---------------------------------------------------------------- report

function machineFacts() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? "unknown",
    cpuCount: cpus.length,
    memoryGiB: round1(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

const ms = (x: number): string => x.toFixed(0);

function roundTable(rows: RoundMeasurement[]): string {
  const lines = [
    "| clients x digits | round | training sum / max (ms) | seal sum (ms) | intake sum (ms) | detection (ms) | aggregation secure (ms) | publish tail (ms) | closeRound (ms) | plain store (ms) | plain FedAvg (ms) | plain persist (ms) | secure / plain, summed training | secure / plain, parallel training |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const m of rows) {
    lines.push(
      `| ${m.clients} x ${m.digitsPerClient} | ${m.round} | ${ms(m.training.sumMs)} / ${ms(m.training.maxMs)} | ${ms(m.secure.sealSumMs)} | ${ms(m.secure.intakeSumMs)} | ${ms(m.secure.replay.detectionMs)}${m.secure.replay.scored ? "" : " (unscored)"} | ${ms(m.secure.replay.aggregationMs)} | ${ms(m.secure.closePublishMs)} | ${ms(m.secure.closeRoundMs)} | ${ms(m.plain.storeSumMs)} | ${ms(m.plain.aggregationMs)} | ${ms(m.plain.persistenceMs)} | ${m.ratioSummed.toFixed(3)} | ${m.ratioParallel.toFixed(3)} |`,
    );
  }
  return lines.join("\n");
}

type Machine = ReturnType<typeof machineFacts>;

interface RoundPart {
  machine: Machine;
  machineAfter: Machine;
  backend: string;
  options: Omit<Options, "parts">;
  rounds: RoundMeasurement[];
}

interface LoadPart {
  machine: Machine;
  machineAfter: Machine;
  options: Omit<Options, "parts">;
  load: LoadResult | null;
  error: string | null;
}

interface Report {
  roundPart: RoundPart | null;
  loadPart: LoadPart | null;
}

/** Reads the previous round.json, whose parts are kept when this run skips them. */
function readPreviousReport(): Report {
  const file = path.join(OUT_DIR, "round.json");
  if (!existsSync(file)) return { roundPart: null, loadPart: null };
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<Report>;
    return { roundPart: parsed.roundPart ?? null, loadPart: parsed.loadPart ?? null };
  } catch (error) {
    console.warn(`ignoring the unreadable ${file}: ${(error as Error).message}`);
    return { roundPart: null, loadPart: null };
  }
}

function machineLine(machine: Machine, after: Machine): string {
  return `Measured on ${machine.date}: Node ${machine.node}, ${machine.cpuCount} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.platform}. Load average ${machine.loadAverage.join(" / ")} at the start and ${after.loadAverage.join(" / ")} at the end (1 / 5 / 15 min). Other developers used the same cores, so every figure includes their load.`;
}

function roundSection(part: RoundPart): string[] {
  const { options, rounds } = part;
  const small = rounds.filter((m) => m.clients === options.smallClients);
  const target = small.length > 0 ? max(small.map((m) => m.ratioSummed)) : Number.NaN;
  const targetParallel = small.length > 0 ? max(small.map((m) => m.ratioParallel)) : Number.NaN;
  return [
    "## Round phases",
    "",
    machineLine(part.machine, part.machineAfter),
    "",
    `Model: MLP 784-128-10 (101,770 float32 parameters), one local epoch of trainLocal (TensorFlow.js ${part.backend} backend) per client on its own IID MNIST shard. ${options.smallClients} clients train on ${options.smallShard} digits each. ${options.largeClients} clients train on ${options.largeShard} digits each: the shards are smaller so that all ${options.largeClients} clients really train (nothing is extrapolated), which also makes training a smaller share of that round. Clients train one after another in this process. Real clients train in parallel on their own machines, so each ratio is given twice: with the summed training time, and with the slowest client's training plus sealing (the server's intake and close stay serial in both).`,
    "",
    "Both paths use the same trained weights, so training is timed once per round. Secure: sealUpdate, receiveUpdateEnvelope on PostgreSQL (every intake check and the insert, in process, no HTTP) and closeRound, timed whole. Its computation and its publishing tail (the publishing transaction plus the events and metric points) are split with the `beforePublish` hook. Detection (scoreRound + TreeSHAP + reputation) and aggregation (reputation-weighted FedAvg with adaptive clipping) come from repeating closeRound's lib calls on the same stored updates, so they are a breakdown of closeRound and are not added to it. Plain: one float32 row per client through node-postgres, FedAvg over those rows, and the model written with the round's status in one transaction. Neither path evaluates the new model. Round 1 starts with no detector history. The plain path writes through node-postgres and the secure path through Prisma, so the ratio also counts Prisma's per-query overhead.",
    "",
    roundTable(rounds),
    "",
    `Target: the security layer adds at most 10% to the round's wall time at ${options.smallClients} clients. Worst round measured: ratio ${target.toFixed(3)} with summed training (${target <= 1.1 ? "met" : "MISSED"}), ${targetParallel.toFixed(3)} with parallel training (${targetParallel <= 1.1 ? "met" : "MISSED"}).`,
    "",
    "Wall time per round (ms), secure / plain:",
    "",
    ...rounds.map(
      (m) =>
        `- ${m.clients} clients, round ${m.round}: summed training ${ms(m.secure.wallSummedMs)} / ${ms(m.plain.wallSummedMs)}, parallel training ${ms(m.secure.wallParallelMs)} / ${ms(m.plain.wallParallelMs)}. closeRound computation ${ms(m.secure.closeComputeMs)}, replayed parts: load+decode ${ms(m.secure.replay.loadDecodeMs)}, scoreRound ${ms(m.secure.replay.scoreRoundMs)}, SHAP ${ms(m.secure.replay.shapMs)}, reputation ${ms(m.secure.replay.reputationMs)}, aggregation ${ms(m.secure.replay.aggregationMs)}, signing ${ms(m.secure.replay.signingMs)}.`,
    ),
    "",
  ];
}

function loadSection(part: LoadPart): string[] {
  const { load } = part;
  const lines = ["## Load run", "", machineLine(part.machine, part.machineAfter), ""];
  if (!load) {
    lines.push(`Not measured: ${part.error ?? "unknown reason"}`, "");
    return lines;
  }
  lines.push(
    `\`next start\` (NODE_ENV=production) and one worker against a fresh database on the same machine. ${load.clients} clients enrolled in process (${ms(load.enrollMs)} ms for all, ML-DSA-65 and X-Wing key generation included), one session each opened over HTTP (${ms(load.sessionsMs)} ms, ${load.sessionFailures} failed). Then ${load.clients} envelopes of ${load.parameters} float32 parameters (${load.envelopeBytes} bytes each) were sealed before the clock started (${ms(load.sealMs)} ms) and submitted over loopback with ${load.concurrency} requests in flight. The federation's minClients is ${load.clients + 1}, so the round stays open and no close competes with the intake.`,
    "",
    "| measure | value |",
    "|---|---|",
    `| submissions wall time | ${ms(load.submitWallMs)} ms |`,
    `| throughput (202 responses / s) | ${load.updatesPerSecond.toFixed(1)} |`,
    `| latency p50 / p99 / max / mean | ${ms(load.latencyMs.p50)} / ${ms(load.latencyMs.p99)} / ${ms(load.latencyMs.max)} / ${ms(load.latencyMs.mean)} ms |`,
    `| responses | ${Object.entries(load.statusCounts)
      .map(([status, count]) => `${status}: ${count}`)
      .join(", ")} |`,
    `| abandoned at the time limit | ${load.abandoned} |`,
    `| peak RSS of the \`next start\` process tree (VmRSS sum, 100 ms samples) | ${load.webPeakRssMiB.toFixed(0)} MiB over ${load.webProcesses} processes |`,
    `| sum of the processes' VmHWM | ${load.webVmHwmMiB.toFixed(0)} MiB |`,
    `| ModelUpdate rows / distinct clients | ${load.rows} / ${load.distinctClients} |`,
    `| clients with more than one row | ${load.duplicateClients} |`,
    `| 202 responses without a row / rows without a 202 | ${load.acceptedWithoutRow} / ${load.rowsWithoutAccepted} |`,
    `| every update stored exactly once | ${load.exactlyOnce ? "yes" : "NO"} |`,
    "",
  );
  return lines;
}

function writeReport(report: Report): void {
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(path.join(OUT_DIR, "round.json"), `${JSON.stringify(report, null, 2)}\n`);
  const md = [
    "# Round wall time with and without the security layer",
    "",
    "Measured by `npm run bench:round` (scripts/bench-round.ts). `--part round` or `--part load` reruns one part and keeps the other part's last results.",
    "",
    ...(report.roundPart
      ? roundSection(report.roundPart)
      : ["## Round phases", "", "Not run.", ""]),
    ...(report.loadPart ? loadSection(report.loadPart) : ["## Load run", "", "Not run.", ""]),
  ];
  writeFileSync(path.join(OUT_DIR, "round.md"), md.join("\n"));
}

async function main(): Promise<void> {
  const options = parseOptions();
  const { parts, ...recordedOptions } = options;
  const report = readPreviousReport();
  const first = machineFacts();
  console.log(
    `bench:round on ${first.cpuCount} x ${first.cpuModel}, load ${first.loadAverage.join(" ")}`,
  );
  if (parts.size === 0) {
    writeReport(report);
    console.log(`rewrote ${path.join(OUT_DIR, "round.md")} from round.json`);
    return;
  }
  const server = await startDatabaseServer();
  try {
    if (parts.has("round")) {
      const machine = machineFacts();
      const backend = await initTensorFlow();
      console.log(`TensorFlow.js backend: ${backend}`);
      const training = mnistTrainingSplit();
      const rounds = await benchFederation(
        server,
        training,
        options.smallClients,
        options.smallShard,
        options.rounds,
      );
      rounds.push(
        ...(await benchFederation(
          server,
          training,
          options.largeClients,
          options.largeShard,
          options.rounds,
        )),
      );
      report.roundPart = {
        machine,
        machineAfter: machineFacts(),
        backend,
        options: recordedOptions,
        rounds,
      };
    }
    if (parts.has("load")) {
      const machine = machineFacts();
      const { isBuildCurrent } = await import("@/lib/system/build-stamp");
      let load: LoadResult | null = null;
      let error: string | null = null;
      if (!isBuildCurrent()) {
        error = "the Next.js build in .next is missing or stale; run `npx tsx scripts/build.ts`";
        console.error(error);
      } else {
        load = await loadRun(server, options);
        console.log(JSON.stringify(load, null, 2));
      }
      report.loadPart = {
        machine,
        machineAfter: machineFacts(),
        options: recordedOptions,
        load,
        error,
      };
    }
  } finally {
    await server.embedded?.stop();
    if (server.home && existsSync(server.home))
      rmSync(server.home, { recursive: true, force: true });
  }
  writeReport(report);
  console.log(`wrote ${path.join(OUT_DIR, "round.json")} and round.md`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
