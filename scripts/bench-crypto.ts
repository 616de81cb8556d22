/**
 * Benchmarks lib/pq: the post-quantum primitives, the session handshake, and the server's whole
 * cryptographic check of one update (parse, verify signature, derive key, decrypt, digest, finite
 * check, manifest) at 10k, 100k and 1M float32 parameters.
 *
 * The target is a whole check of a 100k-parameter update in at most 1.5 times one bare ML-DSA-65
 * verify. Each update size is timed in alternating batches with bare verifies, so load from other
 * processes slows both sides of the ratio alike. The ratio divides the two medians.
 *
 * Usage: npm run bench:crypto   (prints a table, writes docs/benchmarks/crypto.json)
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  acceptHandshake,
  createHandshake,
  DilithiumSigner,
  KyberKeyExchange,
  openUpdatePayload,
  parseHandshake,
  parseUpdateEnvelope,
  randomBytes,
  sealUpdate,
  UPDATE_CONTEXT,
  verifyAndOpenUpdate,
  verifyUpdateSignature,
  XWingKem,
} from "../lib/pq";
import type { TensorSpec, Weights } from "../lib/tensors";

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const OUTPUT = path.join(ROOT, "docs/benchmarks/crypto.json");

/** Each operation runs for at least this long after warm-up, and at least MIN_ITERATIONS times. */
const MIN_DURATION_MS = 1000;
const MIN_ITERATIONS = 20;
const WARMUP_ITERATIONS = 3;
const TARGET_RATIO = 1.5;
const TARGET_PARAMETERS = 100_000;
const UPDATE_SIZES = [10_000, 100_000, 1_000_000];
/** Bytes in the message of the bare verify, about the size of a small update's signed bytes. */
const BARE_MESSAGE_BYTES = 256;

interface Timing {
  name: string;
  iterations: number;
  meanMs: number;
  medianMs: number;
  opsPerSec: number;
}

function summarize(name: string, samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const meanMs = samples.reduce((a, b) => a + b, 0) / samples.length;
  const middle = Math.floor(sorted.length / 2);
  const medianMs =
    sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { name, iterations: samples.length, meanMs, medianMs, opsPerSec: 1000 / meanMs };
}

function sample(run: () => unknown): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

function measure(name: string, run: () => unknown): Timing {
  for (let i = 0; i < WARMUP_ITERATIONS; i++) run();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < MIN_ITERATIONS || performance.now() - start < MIN_DURATION_MS) {
    samples.push(sample(run));
  }
  return summarize(name, samples);
}

/** Times two operations in alternating batches of `batch` runs each. */
function measureInterleaved(
  names: [string, string],
  runs: [() => unknown, () => unknown],
  batch = 5,
): [Timing, Timing] {
  for (let i = 0; i < WARMUP_ITERATIONS; i++) {
    runs[0]();
    runs[1]();
  }
  const samples: [number[], number[]] = [[], []];
  const start = performance.now();
  while (samples[1].length < MIN_ITERATIONS || performance.now() - start < 2 * MIN_DURATION_MS) {
    for (const side of [0, 1] as const) {
      for (let i = 0; i < batch; i++) samples[side].push(sample(runs[side]));
    }
  }
  return [summarize(names[0], samples[0]), summarize(names[1], samples[1])];
}

/** Builds a two-tensor model of exactly `parameters` float32 values with small random weights. */
function modelOf(parameters: number): { weights: Weights; manifest: TensorSpec[] } {
  const rows = parameters / 100 - 1;
  const kernel = new Float32Array(rows * 100);
  for (let i = 0; i < kernel.length; i++) kernel[i] = (Math.random() - 0.5) * 0.1;
  const bias = new Float32Array(100).fill(0.01);
  const weights: Weights = [
    { name: "dense/kernel", shape: [rows, 100], data: kernel },
    { name: "dense/bias", shape: [100], data: bias },
  ];
  return { weights, manifest: weights.map((t) => ({ name: t.name, shape: [...t.shape] })) };
}

function formatRow(timing: Timing, extra = ""): string {
  const name = timing.name.padEnd(44);
  const ops = timing.opsPerSec.toFixed(1).padStart(10);
  const mean = timing.meanMs.toFixed(3).padStart(10);
  const median = timing.medianMs.toFixed(3).padStart(10);
  return `${name}${ops}${mean}${median}${String(timing.iterations).padStart(8)}  ${extra}`;
}

function packageVersion(name: string): string {
  const file = path.join(ROOT, "node_modules", name, "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

function main(): void {
  const loadAtStart = os.loadavg();
  console.log(
    `node ${process.version}, ${os.cpus()[0]?.model ?? "unknown CPU"} x ${os.cpus().length}`,
  );
  console.log(`load average at start: ${loadAtStart.map((x) => x.toFixed(2)).join(" ")}\n`);
  console.log(
    `${"operation".padEnd(44)}${"ops/s".padStart(10)}${"mean ms".padStart(10)}${"median ms".padStart(10)}${"runs".padStart(8)}`,
  );

  const primitives: Timing[] = [];
  const record = (timing: Timing) => {
    primitives.push(timing);
    console.log(formatRow(timing));
  };

  const kem = KyberKeyExchange.generateKeypair();
  const kemEncapsulation = KyberKeyExchange.encapsulate(kem.publicKey);
  record(measure("ML-KEM-768 keygen", () => KyberKeyExchange.generateKeypair()));
  record(measure("ML-KEM-768 encapsulate", () => KyberKeyExchange.encapsulate(kem.publicKey)));
  record(
    measure("ML-KEM-768 decapsulate", () =>
      KyberKeyExchange.decapsulate(kemEncapsulation.ciphertext, kem.secretKey),
    ),
  );

  const xwing = XWingKem.generateKeypair();
  const xwingEncapsulation = XWingKem.encapsulate(xwing.publicKey);
  record(measure("X-Wing keygen", () => XWingKem.generateKeypair()));
  record(measure("X-Wing encapsulate", () => XWingKem.encapsulate(xwing.publicKey)));
  record(
    measure("X-Wing decapsulate", () =>
      XWingKem.decapsulate(xwingEncapsulation.ciphertext, xwing.secretKey),
    ),
  );

  const signer = DilithiumSigner.generateKeypair();
  const bareMessage = randomBytes(BARE_MESSAGE_BYTES);
  const bareSignature = DilithiumSigner.sign(bareMessage, signer.secretKey, UPDATE_CONTEXT);
  const bareVerify = () =>
    DilithiumSigner.verify(bareMessage, bareSignature, signer.publicKey, UPDATE_CONTEXT);
  record(measure("ML-DSA-65 keygen", () => DilithiumSigner.generateKeypair()));
  record(
    measure("ML-DSA-65 sign", () =>
      DilithiumSigner.sign(bareMessage, signer.secretKey, UPDATE_CONTEXT),
    ),
  );
  record(measure(`ML-DSA-65 verify (${BARE_MESSAGE_BYTES}-byte message)`, bareVerify));

  const handshakeInit = {
    clientId: "bench-client",
    serverPublicKey: xwing.publicKey,
    signingSecretKey: signer.secretKey,
  };
  const { message: handshakeMessage } = createHandshake(handshakeInit);
  const acceptance = {
    serverSecretKey: xwing.secretKey,
    serverPublicKey: xwing.publicKey,
    clientPublicKey: signer.publicKey,
  };
  record(measure("handshake, client (encapsulate + sign)", () => createHandshake(handshakeInit)));
  record(
    measure("handshake, server (parse + verify + decapsulate)", () =>
      acceptHandshake(parseHandshake(handshakeMessage), { ...acceptance, nowMs: Date.now() }),
    ),
  );

  console.log("\nserver check of one update, interleaved with bare verifies:");
  const sessionKey = randomBytes(32);
  const sessionId = randomBytes(16);
  const updateChecks: Record<string, unknown>[] = [];
  const components: Timing[] = [];
  for (const parameters of UPDATE_SIZES) {
    const { weights, manifest } = modelOf(parameters);
    const envelope = sealUpdate({
      clientId: "bench-client",
      federationId: "bench-federation",
      roundId: "bench-round",
      baseModelVersion: 1,
      numSamples: 600,
      weights,
      sessionId,
      sessionKey,
      signingSecretKey: signer.secretKey,
    });
    const maxBytes = envelope.length;
    const keys = { clientPublicKey: signer.publicKey, sessionKey, expectedManifest: manifest };
    const wholeCheck = () => verifyAndOpenUpdate(parseUpdateEnvelope(envelope, { maxBytes }), keys);
    const [verify, check] = measureInterleaved(
      [`  bare verify (next to ${parameters})`, `  whole check, ${parameters} parameters`],
      [bareVerify, wholeCheck],
    );
    const ratio = check.medianMs / verify.medianMs;
    console.log(formatRow(verify));
    console.log(formatRow(check, `ratio ${ratio.toFixed(2)}`));
    updateChecks.push({
      parameters,
      envelopeBytes: envelope.length,
      check,
      bareVerify: verify,
      ratioToBareVerify: Number(ratio.toFixed(3)),
    });

    if (parameters === TARGET_PARAMETERS) {
      const parsed = parseUpdateEnvelope(envelope, { maxBytes });
      for (const timing of [
        measure("  of which parse", () => parseUpdateEnvelope(envelope, { maxBytes })),
        measure("  of which signature (SHA-256 + ML-DSA)", () =>
          verifyUpdateSignature(parsed, signer.publicKey),
        ),
        measure("  of which key, decrypt, digest, finite", () =>
          openUpdatePayload(parsed, sessionKey),
        ),
      ]) {
        components.push(timing);
        console.log(formatRow(timing));
      }
    }
  }

  const target = updateChecks.find((entry) => entry.parameters === TARGET_PARAMETERS);
  const targetRatio = target?.ratioToBareVerify as number;
  const met = targetRatio <= TARGET_RATIO;
  console.log(
    `\ntarget: whole check at ${TARGET_PARAMETERS} parameters <= ${TARGET_RATIO} x bare verify: ` +
      `${targetRatio.toFixed(2)} (${met ? "met" : "MISSED"})`,
  );

  const report = {
    generatedAt: new Date().toISOString(),
    command: "npm run bench:crypto",
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      logicalCpus: os.cpus().length,
      totalMemoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
      loadAverageAtStart: loadAtStart.map((x) => Number(x.toFixed(2))),
      loadAverageAtEnd: os.loadavg().map((x) => Number(x.toFixed(2))),
    },
    libraries: {
      "@noble/post-quantum": packageVersion("@noble/post-quantum"),
      "@noble/hashes": packageVersion("@noble/hashes"),
      openssl: process.versions.openssl,
    },
    method: {
      minDurationMs: MIN_DURATION_MS,
      minIterations: MIN_ITERATIONS,
      warmupIterations: WARMUP_ITERATIONS,
      bareVerifyMessageBytes: BARE_MESSAGE_BYTES,
      ratio: "median whole check / median bare verify, timed in alternating batches of 5",
      wholeCheck:
        "parseUpdateEnvelope + verifyAndOpenUpdate (manifest, SHA-256 of ciphertext, ML-DSA-65 verify, HKDF, AES-256-GCM decrypt, SHA-256 digest, finite check)",
    },
    primitives,
    updateChecks,
    componentsAt100k: components,
    target: {
      parameters: TARGET_PARAMETERS,
      maxRatio: TARGET_RATIO,
      measuredRatio: targetRatio,
      met,
    },
  };
  mkdirSync(path.dirname(OUTPUT), { recursive: true });
  writeFileSync(OUTPUT, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${path.relative(ROOT, OUTPUT)}`);
}

main();
