import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  QSFLClient,
  type QSFLClientOptions,
  ServerRejectedError,
  StateError,
  TransportError,
  VerificationError,
} from "@/lib/client";
import { manifestForSpec } from "@/lib/ml/spec";
import {
  DilithiumSigner,
  encodeReceipt,
  encodeSignedModel,
  parseUpdateEnvelope,
  publicKeyFingerprint,
  signModel,
  signReceipt,
} from "@/lib/pq";
import { parameterCount, unflattenWeights, type Weights } from "@/lib/tensors";
import { base64, MockQsflServer, rejection } from "./mock-server";

const SPEC = { architecture: "mlp" as const, hidden: [4] };
const MANIFEST = manifestForSpec(SPEC);

function weights(offset = 0): Weights {
  const values = Float32Array.from(
    { length: parameterCount(MANIFEST) },
    (_, i) => Math.sin(i + offset) / 10,
  );
  return unflattenWeights(values, MANIFEST);
}

interface Logged {
  level: "info" | "warn";
  object: Record<string, unknown>;
  message: string;
}

let server: MockQsflServer;
let logs: Logged[];

beforeEach(async () => {
  server = new MockQsflServer();
  await server.start();
  server.publishModel(0, weights());
  server.openRound(1, 0);
  logs = [];
});

afterEach(async () => {
  await server.close();
});

function newClient(options: Partial<QSFLClientOptions> = {}): QSFLClient {
  return new QSFLClient({
    serverUrl: server.url,
    clientId: "alice",
    stateDir: path.join(mkdtempSync(path.join(tmpdir(), "qsfl-client-")), "state"),
    timeoutMs: 2000,
    retry: { maxRetries: 3, baseDelayMs: 20, maxDelayMs: 200 },
    random: () => 0,
    logger: {
      info: (object, message) => logs.push({ level: "info", object: { ...object }, message }),
      warn: (object, message) => logs.push({ level: "warn", object: { ...object }, message }),
    },
    ...options,
  });
}

async function enrolledClient(options: Partial<QSFLClientOptions> = {}): Promise<QSFLClient> {
  const client = newClient(options);
  await client.enroll(server.issueToken());
  return client;
}

function submission(overrides: Partial<Parameters<QSFLClient["submitUpdate"]>[0]> = {}) {
  return {
    federationId: server.federationId,
    roundId: "round-1",
    baseModelVersion: 0,
    numSamples: 120,
    weights: weights(1),
    ...overrides,
  };
}

function requestsTo(pathname: string) {
  return server.requests.filter((request) => request.path === pathname);
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

describe("enroll", () => {
  it("keeps private keys local", async () => {
    const client = newClient();
    const summary = await client.enroll(server.issueToken());
    expect(summary.serial).toBe(1n);
    expect(summary.serverSigningKeyFingerprint).toBe(
      publicKeyFingerprint(server.signing.publicKey),
    );

    const keysPath = path.join(client.stateDir, "keys.json");
    const credentialPath = path.join(client.stateDir, "credential.json");
    expect(statSync(client.stateDir).mode & 0o777).toBe(0o700);
    expect(statSync(keysPath).mode & 0o777).toBe(0o600);
    expect(statSync(credentialPath).mode & 0o777).toBe(0o600);

    const keys = JSON.parse(readFileSync(keysPath, "utf8"));
    const registered = server.clients.get("alice");
    expect(base64(registered?.signingPublicKey ?? new Uint8Array())).toBe(keys.signing.publicKey);
    expect(base64(registered?.kemPublicKey ?? new Uint8Array())).toBe(keys.kem.publicKey);
    for (const secret of [keys.signing.secretKey, keys.kem.secretKey]) {
      const raw = Buffer.from(secret, "base64");
      for (const request of server.requests) {
        expect(Buffer.from(request.body).indexOf(raw)).toBe(-1);
        expect(Buffer.from(request.body).toString("latin1").includes(secret)).toBe(false);
      }
    }
  });

  it("rejects a forged credential", async () => {
    server.credentialSigningKey = DilithiumSigner.generateKeypair().secretKey;
    const client = newClient();
    const error = await rejectionOf(client.enroll(server.issueToken()));
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).subject).toBe("credential");
    expect((error as VerificationError).code).toBe("bad_signature");
    expect(existsSync(client.stateDir)).toBe(false);
  });

  it("rejects a pinned key mismatch", async () => {
    const client = newClient({ pinnedSigningKeyFingerprint: "ab".repeat(32) });
    const error = await rejectionOf(client.enroll(server.issueToken()));
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).code).toBe("pin_mismatch");
    expect(requestsTo("/api/v1/enroll")).toHaveLength(0);
  });

  it("accepts matching pins", async () => {
    const client = newClient({
      pinnedSigningKeyFingerprint: publicKeyFingerprint(server.signing.publicKey).toUpperCase(),
      pinnedKemKeyFingerprint: publicKeyFingerprint(server.kem.publicKey),
    });
    await client.enroll(server.issueToken());
    expect((await client.submitUpdate(submission())).status).toBe("accepted");
  });

  it("reports a used token without retrying", async () => {
    const token = server.issueToken();
    await newClient().enroll(token);
    const error = await rejectionOf(newClient().enroll(token));
    expect(error).toBeInstanceOf(ServerRejectedError);
    expect((error as ServerRejectedError).status).toBe(401);
    expect((error as ServerRejectedError).code).toBe("invalid_token");
    expect((error as ServerRejectedError).attempts).toBe(1);
  });

  it("rejects a malformed token", async () => {
    await expect(newClient().enroll("no-dot")).rejects.toThrow(/<tokenId>\.<secret>/);
  });
});

describe("state", () => {
  it("loadState reuses the enrollment", async () => {
    const first = await enrolledClient();
    const second = newClient({ stateDir: first.stateDir });
    const state = second.loadState();
    expect(state.clientId).toBe("alice");
    expect(state.serial).toBe(1n);
    expect(state.expired).toBe(false);
    expect((await second.submitUpdate(submission())).status).toBe("accepted");
  });

  it("reports a missing enrollment", () => {
    const error = (() => {
      try {
        newClient().loadState();
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).reason).toBe("missing");
  });

  it("rejects a readable key file", async () => {
    const client = await enrolledClient();
    chmodSync(path.join(client.stateDir, "keys.json"), 0o644);
    expect(() => newClient({ stateDir: client.stateDir }).loadState()).toThrow(
      /mode 0644 and is readable by other users; run chmod 600/,
    );
  });

  it("rejects another client's state", async () => {
    const client = await enrolledClient();
    expect(() => newClient({ stateDir: client.stateDir, clientId: "bob" }).loadState()).toThrow(
      /contains the enrollment of "alice", not "bob"/,
    );
  });

  it("rejects a changed server key", async () => {
    const client = await enrolledClient();
    const impostor = new MockQsflServer();
    await impostor.start();
    try {
      const moved = newClient({ stateDir: client.stateDir, serverUrl: impostor.url });
      const error = await rejectionOf(moved.openSession());
      expect(error).toBeInstanceOf(VerificationError);
      expect((error as VerificationError).code).toBe("server_key_changed");
      expect(impostor.handshakes).toBe(0);
    } finally {
      await impostor.close();
    }
  });
});

describe("submitUpdate", () => {
  it("retries 503 with fresh nonces", async () => {
    const client = await enrolledClient({
      retry: { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000 },
    });
    let failures = 0;
    server.intercept("/api/v1/updates", () =>
      failures++ < 2 ? rejection(503, "unavailable", "restarting") : undefined,
    );

    const result = await client.submitUpdate(submission());
    expect(result.status).toBe("accepted");
    expect(result.attempts).toBe(3);
    expect(server.updates).toHaveLength(1);
    const nonces = server.updateNonces.map((entry) => entry.nonce);
    expect(nonces).toHaveLength(3);
    expect(new Set(nonces).size).toBe(3);
    expect(server.updates[0].nonce).toBe(nonces[2]);

    // random() = 0 gives the lower bound of each delay: base / 2, then base.
    const arrivals = server.updateNonces.map((entry) => entry.atMs);
    expect(arrivals[1] - arrivals[0]).toBeGreaterThanOrEqual(50);
    expect(arrivals[2] - arrivals[1]).toBeGreaterThanOrEqual(100);
    const retries = logs.filter((entry) => entry.level === "warn");
    expect(retries.map((entry) => entry.object.delayMs)).toEqual([50, 100]);
    expect(retries.map((entry) => entry.object.status)).toEqual([503, 503]);
  });

  it("backoff delays grow with jitter", async () => {
    const client = await enrolledClient({
      retry: { maxRetries: 2, baseDelayMs: 40, maxDelayMs: 1000 },
      random: () => 0.999,
    });
    server.intercept("/api/v1/updates", () => rejection(502, "bad_gateway", "proxy down"));
    const error = await rejectionOf(client.submitUpdate(submission()));
    expect(error).toBeInstanceOf(ServerRejectedError);
    expect((error as ServerRejectedError).status).toBe(502);
    expect((error as ServerRejectedError).attempts).toBe(3);
    const delays = logs.filter((entry) => entry.level === "warn").map((e) => e.object.delayMs);
    expect(delays).toEqual([40, 80]);
    expect(new Set(server.updateNonces.map((entry) => entry.nonce)).size).toBe(3);
  });

  it("honours Retry-After", async () => {
    const client = await enrolledClient({
      retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 5000 },
    });
    let failures = 0;
    server.intercept("/api/v1/updates", () =>
      failures++ < 1
        ? { ...rejection(429, "too_many_requests", "slow down"), headers: { "retry-after": "1" } }
        : undefined,
    );
    expect((await client.submitUpdate(submission())).status).toBe("accepted");
    const arrivals = server.updateNonces.map((entry) => entry.atMs);
    expect(arrivals[1] - arrivals[0]).toBeGreaterThanOrEqual(1000);
  });

  it("timeout then duplicate counts as accepted", async () => {
    const client = await enrolledClient({ timeoutMs: 300 });
    let first = true;
    server.intercept("/api/v1/updates", () => {
      if (!first) return undefined;
      first = false;
      return { delayMs: 1000 };
    });
    const result = await client.submitUpdate(submission());
    expect(result.status).toBe("duplicate");
    expect(result.receipt).toBeNull();
    expect(result.attempts).toBe(2);
    expect(server.updates).toHaveLength(1);
    const nonces = server.updateNonces.map((entry) => entry.nonce);
    expect(nonces).toHaveLength(2);
    expect(nonces[0]).not.toBe(nonces[1]);
    expect(
      logs.some((entry) => String(entry.object.error).includes("timed out after 300 ms")),
    ).toBe(true);
  });

  it("renews an unknown session", async () => {
    const client = await enrolledClient();
    await client.openSession();
    server.sessions.clear();
    const result = await client.submitUpdate(submission());
    expect(result.status).toBe("accepted");
    expect(result.attempts).toBe(2);
    expect(server.handshakes).toBe(2);
  });

  it("reuses the session across updates", async () => {
    const client = await enrolledClient();
    await client.submitUpdate(submission());
    server.openRound(2, 0);
    await client.submitUpdate(submission({ roundId: "round-2" }));
    expect(server.handshakes).toBe(1);
    expect(new Set(server.updates.map((u) => u.nonce)).size).toBe(2);
  });

  it("rejects other 4xx at once", async () => {
    const client = await enrolledClient();
    if (server.round) server.round.status = "published";
    const error = await rejectionOf(client.submitUpdate(submission()));
    expect(error).toBeInstanceOf(ServerRejectedError);
    expect((error as ServerRejectedError).status).toBe(409);
    expect((error as ServerRejectedError).code).toBe("round_closed");
    expect((error as ServerRejectedError).attempts).toBe(1);
    expect(requestsTo("/api/v1/updates")).toHaveLength(1);
  });

  it("verifies the receipt signature", async () => {
    const client = await enrolledClient();
    const forger = DilithiumSigner.generateKeypair();
    server.intercept("/api/v1/updates", (request) => {
      const parsed = parseUpdateEnvelope(request.body, { maxBytes: 1 << 26 });
      const receipt = {
        updateId: "forged",
        clientId: "alice",
        roundId: "round-1",
        payloadDigest: parsed.header.payloadDigest,
        receivedAtMs: Date.now(),
      };
      return {
        status: 202,
        json: {
          updateId: "forged",
          roundId: "round-1",
          receipt: base64(encodeReceipt(receipt)),
          receiptSignature: base64(signReceipt(receipt, forger.secretKey)),
        },
      };
    });
    const error = await rejectionOf(client.submitUpdate(submission()));
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).subject).toBe("receipt");
    expect((error as VerificationError).code).toBe("bad_signature");
  });

  it("rejects a receipt for another payload", async () => {
    const client = await enrolledClient();
    server.intercept("/api/v1/updates", () => {
      const receipt = {
        updateId: "u-1",
        clientId: "alice",
        roundId: "round-1",
        payloadDigest: new Uint8Array(32),
        receivedAtMs: Date.now(),
      };
      return {
        status: 202,
        json: {
          updateId: "u-1",
          roundId: "round-1",
          receipt: base64(encodeReceipt(receipt)),
          receiptSignature: base64(signReceipt(receipt, server.signing.secretKey)),
        },
      };
    });
    const error = await rejectionOf(client.submitUpdate(submission()));
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).code).toBe("digest_mismatch");
  });

  it("returns a verified receipt", async () => {
    const client = await enrolledClient();
    const result = await client.submitUpdate(submission());
    expect(result.updateId).toBe(server.updates[0].updateId);
    expect(result.receipt?.clientId).toBe("alice");
    expect(result.receipt?.roundId).toBe("round-1");
    expect(server.updates[0].numSamples).toBe(120);
    expect(server.updates[0].weights[2].data).toEqual(weights(1)[2].data);
  });
});

describe("transport", () => {
  it("reports an unreachable server", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = newClient({
      serverUrl: `http://127.0.0.1:${port}`,
      retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 10 },
    });
    const error = await rejectionOf(client.getRound("fed-1"));
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).kind).toBe("network");
    expect((error as TransportError).attempts).toBe(2);
    expect((error as TransportError).message).toMatch(/ECONNREFUSED/);
  });

  it("rejects an invalid response body", async () => {
    const client = newClient();
    server.intercept(`/api/v1/federations/${server.federationId}/round`, () => ({
      status: 200,
      json: { federationId: server.federationId, federationStatus: "paused" },
    }));
    const error = await rejectionOf(client.getRound(server.federationId));
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).code).toBe("invalid_response");
    expect((error as VerificationError).message).toMatch(/federationStatus/);
  });
});

describe("downloadModel", () => {
  const modelPath = () => `/api/v1/federations/${server.federationId}/model`;

  it("returns verified weights", async () => {
    const client = await enrolledClient();
    const model = await client.downloadModel(server.federationId, 0, MANIFEST);
    expect(model.version).toBe(0);
    expect(model.weights[0].data).toEqual(weights()[0].data);
    expect(model.weights.map((t) => t.name)).toEqual(MANIFEST.map((t) => t.name));
  });

  it("rejects a tampered model", async () => {
    const client = await enrolledClient();
    const signed = signModel(
      { federationId: server.federationId, version: 0, weights: weights() },
      server.signing.secretKey,
    );
    const cases: Array<[string, (bytes: Uint8Array) => void]> = [
      ["digest_mismatch", (bytes) => (bytes[bytes.length - 3309 - 5] ^= 0x01)],
      ["bad_signature", (bytes) => (bytes[bytes.length - 10] ^= 0x01)],
    ];
    for (const [code, tamper] of cases) {
      server.clearInterceptors();
      const bytes = encodeSignedModel(signed);
      tamper(bytes);
      server.intercept(modelPath(), () => ({ status: 200, body: bytes }));
      const error = await rejectionOf(client.downloadModel(server.federationId, 0));
      expect(error, code).toBeInstanceOf(VerificationError);
      expect((error as VerificationError).subject).toBe("model");
      expect((error as VerificationError).code).toBe(code);
    }
  });

  it("rejects a model signed by another key", async () => {
    const client = await enrolledClient();
    const forged = signModel(
      { federationId: server.federationId, version: 0, weights: weights(5) },
      DilithiumSigner.generateKeypair().secretKey,
    );
    server.intercept(modelPath(), () => ({ status: 200, body: encodeSignedModel(forged) }));
    await expect(client.downloadModel(server.federationId, 0)).rejects.toMatchObject({
      code: "bad_signature",
    });
  });

  it("rejects another version or federation", async () => {
    const client = await enrolledClient();
    server.publishModel(3, weights(3));
    server.intercept(modelPath(), (request) =>
      request.query.get("version") === "0"
        ? { status: 200, body: encodeSignedModel(server.publishModel(3, weights(3))) }
        : undefined,
    );
    await expect(client.downloadModel(server.federationId, 0)).rejects.toMatchObject({
      code: "wrong_version",
    });
    server.clearInterceptors();
    const other = signModel(
      { federationId: "fed-2", version: 0, weights: weights() },
      server.signing.secretKey,
    );
    server.intercept(modelPath(), () => ({ status: 200, body: encodeSignedModel(other) }));
    await expect(client.downloadModel(server.federationId, 0)).rejects.toMatchObject({
      code: "wrong_federation",
    });
  });

  it("rejects an unexpected layout", async () => {
    const client = await enrolledClient();
    const expected = manifestForSpec({ architecture: "mlp", hidden: [8] });
    await expect(client.downloadModel(server.federationId, 0, expected)).rejects.toMatchObject({
      code: "manifest_mismatch",
    });
  });
});

describe("rotateKeys", () => {
  it("replaces keys and credential", async () => {
    const client = await enrolledClient();
    const keysPath = path.join(client.stateDir, "keys.json");
    const before = JSON.parse(readFileSync(keysPath, "utf8"));
    await client.submitUpdate(submission());

    const summary = await client.rotateKeys();
    expect(summary.serial).toBe(2n);
    const after = JSON.parse(readFileSync(keysPath, "utf8"));
    expect(after.signing.publicKey).not.toBe(before.signing.publicKey);
    expect(base64(server.clients.get("alice")?.signingPublicKey ?? new Uint8Array())).toBe(
      after.signing.publicKey,
    );
    expect(readdirSync(client.stateDir).sort()).toEqual(["credential.json", "keys.json"]);

    server.openRound(2, 0);
    expect((await client.submitUpdate(submission({ roundId: "round-2" }))).status).toBe("accepted");
    expect(server.handshakes).toBe(2);
    expect(newClient({ stateDir: client.stateDir }).loadState().serial).toBe(2n);
  });
});

describe("QSFLClient options", () => {
  it("rejects invalid options", () => {
    expect(() => newClient({ serverUrl: "ftp://127.0.0.1" })).toThrow(
      /serverUrl: expected an http/,
    );
    expect(() => newClient({ clientId: "bad id" })).toThrow(/clientId: expected 1-64 letters/);
    expect(() => newClient({ pinnedKemKeyFingerprint: "abc" })).toThrow(
      /pinnedKemKeyFingerprint: expected 64 hex digits/,
    );
    expect(() => newClient({ retry: { maxRetries: -1 } })).toThrow(/retry\.maxRetries/);
  });
});
