/**
 * The client REST protocol end to end: real route handlers, a real PostgreSQL database, real
 * post-quantum cryptography. Every rejection case asserts the status, the error code, the one
 * security event it wrote, and that no update row was written.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

const TEST_MAX_UPDATE_BYTES = 1024 * 1024;
const configDir = mkdtempSync(path.join(tmpdir(), "qsfl-protocol-"));
const configFile = path.join(configDir, "config.yaml");
writeFileSync(configFile, `security:\n  maxUpdateBytes: ${TEST_MAX_UPDATE_BYTES}\n`);
process.env.QSFL_CONFIG = configFile;
process.env.QSFL_MASTER_KEY = "11".repeat(32);

type Modules = Awaited<ReturnType<typeof loadModules>>;

async function loadModules() {
  return {
    pq: await import("@/lib/pq"),
    db: await import("@/lib/db"),
    enrollment: await import("@/lib/auth/enrollment"),
    credentials: await import("@/lib/auth/credentials"),
    clientApi: await import("@/lib/http/client-api"),
    webBoss: await import("@/lib/web/boss"),
    enrollRoute: await import("@/app/api/v1/enroll/route"),
    sessionsRoute: await import("@/app/api/v1/sessions/route"),
    updatesRoute: await import("@/app/api/v1/updates/route"),
    rotateRoute: await import("@/app/api/v1/credentials/rotate/route"),
    modelRoute: await import("@/app/api/v1/federations/[federationId]/model/route"),
    keysRoute: await import("@/app/api/v1/server-keys/route"),
  };
}

interface TestClient {
  clientId: string;
  signing: { publicKey: Uint8Array; secretKey: Uint8Array };
  sessionId: Uint8Array;
  sessionKey: Uint8Array;
}

let database: TestDatabase;
let m: Modules;
let federationId = "";
let roundId = "";
const weights = () => [
  {
    name: "dense/kernel",
    shape: [4, 3],
    data: Float32Array.from({ length: 12 }, (_, i) => i / 10),
  },
  { name: "dense/bias", shape: [3], data: Float32Array.from([0.1, -0.2, 0.3]) },
];

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  m = await loadModules();
  const created = await createRunningFederation("protocol-test");
  federationId = created.federationId;
  roundId = created.roundId;
});

/** Creates a running federation with a signed model version 0 and an open round 1. */
async function createRunningFederation(
  name: string,
): Promise<{ federationId: string; roundId: string }> {
  const prisma = m.db.getPrisma();
  const ctx = await m.clientApi.getIntakeContext();
  const federation = await prisma.federation.create({
    data: { name, modelSpec: { kind: "test" }, status: "running" },
  });
  const signed = m.pq.signModel(
    { federationId: federation.id, version: 0, weights: weights() },
    ctx.serverKeys.signing.secretKey,
  );
  const model = await prisma.modelVersion.create({
    data: {
      federationId: federation.id,
      version: 0,
      manifest: signed.statement.manifest as object[],
      weights: Buffer.from(signed.payload),
      digest: m.pq.toHex(signed.statement.weightsDigest),
      signature: Buffer.from(signed.signature),
    },
  });
  const round = await prisma.round.create({
    data: {
      federationId: federation.id,
      number: 1,
      quorum: 3,
      deadline: new Date(Date.now() + 3_600_000),
      baseModelVersionId: model.id,
    },
  });
  return { federationId: federation.id, roundId: round.id };
}

afterAll(async () => {
  await m?.webBoss.stopWebBoss();
  await m?.db.getPrisma().$disconnect();
  await database?.drop();
});

function jsonRequest(url: string, body: unknown, contentType = "application/json"): Request {
  return new Request(`http://127.0.0.1${url}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function binaryRequest(
  url: string,
  body: Uint8Array,
  contentType = "application/octet-stream",
): Request {
  return new Request(`http://127.0.0.1${url}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: Buffer.from(body),
  });
}

async function issueToken(options: { clientId?: string; ttlMinutes?: number; now?: Date } = {}) {
  return m.enrollment.issueEnrollmentToken(m.db.getPrisma(), {
    ttlMinutes: options.ttlMinutes ?? 10,
    clientId: options.clientId,
    federationId,
    now: options.now,
  });
}

async function enrollRequest(clientId: string, token: { tokenId: string; token: string }) {
  const signing = m.pq.DilithiumSigner.generateKeypair();
  const proof = {
    tokenId: token.tokenId,
    clientId,
    signingPublicKey: signing.publicKey,
    kemPublicKey: null,
  };
  const proofSignature = m.pq.signEnrollmentProof(proof, signing.secretKey);
  const request = jsonRequest("/api/v1/enroll", {
    token: token.token,
    clientId,
    signingPublicKey: Buffer.from(signing.publicKey).toString("base64"),
    kemPublicKey: null,
    proofSignature: Buffer.from(proofSignature).toString("base64"),
  });
  return { signing, request };
}

async function serverKemPublicKey(): Promise<Uint8Array> {
  const response = await m.keysRoute.GET(new Request("http://127.0.0.1/api/v1/server-keys"));
  const body = await response.json();
  return new Uint8Array(Buffer.from(body.kem.publicKey, "base64"));
}

async function openSession(clientId: string, signingSecretKey: Uint8Array) {
  const { message, session } = m.pq.createHandshake({
    clientId,
    serverPublicKey: await serverKemPublicKey(),
    signingSecretKey,
  });
  const response = await m.sessionsRoute.POST(binaryRequest("/api/v1/sessions", message));
  expect(response.status).toBe(201);
  return session;
}

async function newClient(clientId: string): Promise<TestClient> {
  const token = await issueToken({ clientId });
  const { signing, request } = await enrollRequest(clientId, token);
  const response = await m.enrollRoute.POST(request);
  expect(response.status, await response.clone().text()).toBe(201);
  const session = await openSession(clientId, signing.secretKey);
  return { clientId, signing, sessionId: session.sessionId, sessionKey: session.sessionKey };
}

function seal(
  client: TestClient,
  overrides: Partial<Parameters<Modules["pq"]["sealUpdate"]>[0]> = {},
) {
  return m.pq.sealUpdate({
    clientId: client.clientId,
    federationId,
    roundId,
    baseModelVersion: 0,
    numSamples: 100,
    weights: weights(),
    sessionId: client.sessionId,
    sessionKey: client.sessionKey,
    signingSecretKey: client.signing.secretKey,
    ...overrides,
  });
}

async function counts() {
  const prisma = m.db.getPrisma();
  return {
    updates: await prisma.modelUpdate.count(),
    events: await prisma.securityEvent.count(),
  };
}

async function expectRejected(
  send: () => Promise<Response>,
  expected: { status: number; code: string; clientId?: string | null },
): Promise<void> {
  const before = await counts();
  const lastBefore = await m.db
    .getPrisma()
    .securityEvent.findFirst({ orderBy: { sequence: "desc" } });
  const response = await send();
  const body = await response.json();
  expect(response.status, JSON.stringify(body)).toBe(expected.status);
  expect(body.error).toBe(expected.code);
  expect(typeof body.message).toBe("string");
  const after = await counts();
  expect(after.updates).toBe(before.updates);
  expect(after.events).toBe(before.events + 1);
  const event = await m.db.getPrisma().securityEvent.findFirst({ orderBy: { sequence: "desc" } });
  if (!event) throw new Error("no security event was written");
  expect(event.sequence).not.toBe(lastBefore?.sequence);
  const metadata = event.metadata as { code?: string; requestId?: string };
  expect(metadata.code).toBe(expected.code);
  expect(metadata.requestId).toBe(body.requestId);
  if (expected.clientId !== undefined) expect(event.clientId).toBe(expected.clientId);
}

function postUpdate(body: Uint8Array, contentType?: string) {
  return m.updatesRoute.POST(binaryRequest("/api/v1/updates", body, contentType));
}

describe("client protocol", () => {
  let alice: TestClient;
  let bob: TestClient;

  beforeAll(async () => {
    alice = await newClient("alice");
    bob = await newClient("bob");
  });

  beforeEach(async () => {
    await m.db.getPrisma().round.update({ where: { id: roundId }, data: { status: "open" } });
  });

  it("accepts a valid update with a signed receipt", async () => {
    const carol = await newClient("carol");
    const response = await postUpdate(seal(carol));
    const body = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(202);
    const receipt = m.pq.decodeReceipt(new Uint8Array(Buffer.from(body.receipt, "base64")));
    const ctx = await m.clientApi.getIntakeContext();
    expect(
      m.pq.verifyReceipt(
        receipt,
        new Uint8Array(Buffer.from(body.receiptSignature, "base64")),
        ctx.serverKeys.signing.publicKey,
      ),
    ).toBe(true);
    const row = await m.db.getPrisma().modelUpdate.findUnique({ where: { id: body.updateId } });
    expect(row?.status).toBe("accepted");
    expect(row?.clientId).toBe("carol");
    expect(row?.numSamples).toBe(100);
    const stored = new Float32Array(new Uint8Array(row?.payload ?? []).slice().buffer);
    expect(Array.from(stored.slice(12))).toEqual(Array.from(Float32Array.from([0.1, -0.2, 0.3])));
  });

  it("rejects a forged signature", async () => {
    const envelope = seal(alice);
    envelope[envelope.length - 10] ^= 0x01;
    await expectRejected(() => postUpdate(envelope), {
      status: 401,
      code: "bad_signature",
      clientId: "alice",
    });
  });

  it("rejects another client's signature", async () => {
    const envelope = seal(alice, { signingSecretKey: bob.signing.secretKey });
    await expectRejected(() => postUpdate(envelope), {
      status: 401,
      code: "bad_signature",
      clientId: "alice",
    });
  });

  it("rejects a replayed nonce", async () => {
    const dave = await newClient("dave");
    const envelope = seal(dave);
    expect((await postUpdate(envelope)).status).toBe(202);
    await expectRejected(() => postUpdate(envelope), {
      status: 409,
      code: "replayed_nonce",
      clientId: "dave",
    });
  });

  it("rejects an update for a closed round", async () => {
    await m.db.getPrisma().round.update({ where: { id: roundId }, data: { status: "published" } });
    await expectRejected(() => postUpdate(seal(alice)), {
      status: 409,
      code: "round_closed",
      clientId: "alice",
    });
  });

  it("rejects a timestamp outside the window", async () => {
    const envelope = seal(alice, { timestampMs: Date.now() - 10 * 60_000 });
    await expectRejected(() => postUpdate(envelope), {
      status: 409,
      code: "stale_timestamp",
      clientId: "alice",
    });
  });

  it("rejects a revoked client", async () => {
    const eve = await newClient("eve");
    await new m.credentials.RevocationManager(m.db.getPrisma()).revokeCredential("eve", "test");
    await expectRejected(() => postUpdate(seal(eve)), {
      status: 403,
      code: "client_revoked",
      clientId: "eve",
    });
  });

  it("rejects an expired credential", async () => {
    const frank = await newClient("frank");
    await m.db.getPrisma().credential.updateMany({
      where: { clientId: "frank" },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    await expectRejected(() => postUpdate(seal(frank)), {
      status: 403,
      code: "credential_expired",
      clientId: "frank",
    });
  });

  it("rejects an unknown client", async () => {
    const envelope = seal(alice, { clientId: "mallory" });
    await expectRejected(() => postUpdate(envelope), {
      status: 401,
      code: "unknown_client",
      clientId: "mallory",
    });
  });

  it("rejects a flipped bit in the ciphertext", async () => {
    const envelope = seal(alice);
    const parsed = m.pq.parseUpdateEnvelope(envelope, { maxBytes: TEST_MAX_UPDATE_BYTES });
    const offset = envelope.length - parsed.signature.length - 20;
    envelope[offset] ^= 0x80;
    await expectRejected(() => postUpdate(envelope), {
      status: 401,
      code: "bad_signature",
      clientId: "alice",
    });
  });

  it("rejects a flipped bit in the header", async () => {
    const envelope = seal(alice);
    const parsed = m.pq.parseUpdateEnvelope(envelope, { maxBytes: TEST_MAX_UPDATE_BYTES });
    const digestOffset = Buffer.from(envelope).indexOf(Buffer.from(parsed.header.payloadDigest));
    expect(digestOffset).toBeGreaterThan(0);
    expect(digestOffset).toBeLessThan(parsed.headerBytes.length);
    envelope[digestOffset] ^= 0x01;
    await expectRejected(() => postUpdate(envelope), {
      status: 401,
      code: "bad_signature",
      clientId: "alice",
    });
  });

  it("rejects a wrong shape", async () => {
    const wrong = [
      { name: "dense/kernel", shape: [3, 4], data: new Float32Array(12) },
      { name: "dense/bias", shape: [3], data: new Float32Array(3) },
    ];
    await expectRejected(() => postUpdate(seal(alice, { weights: wrong })), {
      status: 422,
      code: "manifest_mismatch",
      clientId: "alice",
    });
  });

  for (const [name, value] of [
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
  ] as const) {
    it(`rejects ${name} values`, async () => {
      const bad = weights();
      bad[1].data[2] = value;
      await expectRejected(() => postUpdate(seal(alice, { weights: bad })), {
        status: 422,
        code: "non_finite",
        clientId: "alice",
      });
    });
  }

  it("rejects an oversized body", async () => {
    const big = new Uint8Array(TEST_MAX_UPDATE_BYTES + 1);
    await expectRejected(() => postUpdate(big), { status: 413, code: "too_large", clientId: null });
  });

  it("rejects a truncated body", async () => {
    const envelope = seal(alice);
    await expectRejected(() => postUpdate(envelope.subarray(0, envelope.length - 100)), {
      status: 400,
      code: "malformed",
      clientId: null,
    });
  });

  it("rejects a wrong content type", async () => {
    await expectRejected(() => postUpdate(seal(alice), "application/json"), {
      status: 415,
      code: "unsupported_media_type",
      clientId: null,
    });
  });

  it("rejects a reused enrollment token", async () => {
    const token = await issueToken();
    const first = await enrollRequest("grace", token);
    expect((await m.enrollRoute.POST(first.request)).status).toBe(201);
    const second = await enrollRequest("heidi", token);
    await expectRejected(() => m.enrollRoute.POST(second.request), {
      status: 401,
      code: "token_used",
      clientId: "heidi",
    });
    expect(await m.db.getPrisma().client.findUnique({ where: { id: "heidi" } })).toBeNull();
  });

  it("rejects an expired enrollment token", async () => {
    const token = await issueToken({ ttlMinutes: 1, now: new Date(Date.now() - 5 * 60_000) });
    const { request } = await enrollRequest("ivan", token);
    await expectRejected(() => m.enrollRoute.POST(request), {
      status: 401,
      code: "token_expired",
      clientId: "ivan",
    });
    expect(await m.db.getPrisma().client.findUnique({ where: { id: "ivan" } })).toBeNull();
  });

  it("rotates keys and refuses the old key", async () => {
    const judy = await newClient("judy");
    const next = m.pq.DilithiumSigner.generateKeypair();
    const rotation = {
      clientId: "judy",
      oldKeyFingerprint: m.pq.sha256(judy.signing.publicKey),
      newSigningPublicKey: next.publicKey,
      newKemPublicKey: null,
      timestampMs: Date.now(),
    };
    const signature = m.pq.signKeyRotation(rotation, judy.signing.secretKey);
    const response = await m.rotateRoute.POST(
      jsonRequest("/api/v1/credentials/rotate", {
        clientId: "judy",
        rotation: Buffer.from(m.pq.encodeKeyRotation(rotation)).toString("base64"),
        signature: Buffer.from(signature).toString("base64"),
      }),
    );
    expect(response.status, await response.clone().text()).toBe(201);

    // The old session was opened under the old key; an update signed with the old key now fails.
    await expectRejected(() => postUpdate(seal(judy)), {
      status: 401,
      code: "bad_signature",
      clientId: "judy",
    });
    const session = await openSession("judy", next.secretKey);
    const rotated = {
      ...judy,
      signing: next,
      sessionId: session.sessionId,
      sessionKey: session.sessionKey,
    };
    expect((await postUpdate(seal(rotated))).status).toBe(202);
  });

  it("rejects re-enrollment with an unbound token", async () => {
    const victim = await newClient("victim");
    const token = await issueToken();
    const takeover = await enrollRequest("victim", token);
    await expectRejected(() => m.enrollRoute.POST(takeover.request), {
      status: 409,
      code: "client_exists",
      clientId: "victim",
    });
    const credentials = await m.db
      .getPrisma()
      .credential.findMany({ where: { clientId: "victim" } });
    expect(credentials.length).toBe(1);
    expect(credentials[0].revokedAt).toBeNull();
    expect((await postUpdate(seal(victim))).status).toBe(202);
  });

  it("re-enrollment with a bound token replaces the keys", async () => {
    const walter = await newClient("walter");
    const token = await issueToken({ clientId: "walter" });
    const again = await enrollRequest("walter", token);
    expect((await m.enrollRoute.POST(again.request)).status).toBe(201);
    await expectRejected(() => postUpdate(seal(walter)), {
      status: 401,
      code: "bad_signature",
      clientId: "walter",
    });
    const revoked = await m.db
      .getPrisma()
      .credential.count({ where: { clientId: "walter", revokedAt: { not: null } } });
    expect(revoked).toBe(1);
  });

  it("rejects an update for another federation", async () => {
    const other = await createRunningFederation("other-federation");
    const envelope = seal(alice, { federationId: other.federationId, roundId: other.roundId });
    await expectRejected(() => postUpdate(envelope), {
      status: 403,
      code: "wrong_federation",
      clientId: "alice",
    });
  });

  it("rejects a sample count above the column's range", async () => {
    await expectRejected(() => postUpdate(seal(alice, { numSamples: 4_294_967_295 })), {
      status: 422,
      code: "invalid_num_samples",
      clientId: "alice",
    });
  });

  it("rejects an out-of-range model version", async () => {
    for (const version of ["1099511627776", "1e3", ""]) {
      const response = await m.modelRoute.GET(
        new Request(`http://127.0.0.1/api/v1/federations/${federationId}/model?version=${version}`),
        { params: Promise.resolve({ federationId }) },
      );
      expect(response.status, version).toBe(400);
    }
  });

  it("random and mutated bodies never cause a 5xx", async () => {
    const valid = seal(alice);
    const before = await m.db.getPrisma().modelUpdate.count();
    const statuses = new Set<number>();
    for (let i = 0; i < 60; i++) {
      let body: Uint8Array;
      if (i % 3 === 0) {
        body = new Uint8Array(Math.floor(Math.random() * 4096));
        for (let k = 0; k < body.length; k++) body[k] = Math.floor(Math.random() * 256);
      } else if (i % 3 === 1) {
        body = valid.slice();
        for (let flips = 0; flips < 1 + (i % 7); flips++) {
          const position = Math.floor(Math.random() * body.length);
          body[position] ^= 1 << Math.floor(Math.random() * 8);
        }
      } else {
        body = valid.subarray(0, Math.floor(Math.random() * valid.length));
      }
      const response = await postUpdate(body);
      statuses.add(response.status);
      expect(response.status, `case ${i}`).toBeGreaterThanOrEqual(400);
      expect(response.status, `case ${i}`).toBeLessThan(500);
      expect((await response.json()).error).toBeTypeOf("string");
    }
    for (const route of ["/api/v1/sessions"]) {
      const response = await m.sessionsRoute.POST(binaryRequest(route, new Uint8Array([1, 2, 3])));
      expect(response.status).toBe(400);
    }
    const enroll = await m.enrollRoute.POST(jsonRequest("/api/v1/enroll", "{not json"));
    expect(enroll.status).toBe(400);
    expect(await m.db.getPrisma().modelUpdate.count()).toBe(before);
    expect(statuses.size).toBeGreaterThanOrEqual(2);
  });

  it("client refuses a tampered model", async () => {
    const response = await m.modelRoute.GET(
      new Request(`http://127.0.0.1/api/v1/federations/${federationId}/model`),
      {
        params: Promise.resolve({ federationId }),
      },
    );
    expect(response.status).toBe(200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const ctx = await m.clientApi.getIntakeContext();
    const model = m.pq.decodeSignedModel(bytes);
    const verified = m.pq.verifySignedModel(model, ctx.serverKeys.signing.publicKey);
    expect(Array.from(verified[1].data)).toEqual(Array.from(Float32Array.from([0.1, -0.2, 0.3])));

    const tamperedPayload = { ...model, payload: model.payload.slice() };
    tamperedPayload.payload[0] ^= 0x01;
    expect(() => m.pq.verifySignedModel(tamperedPayload, ctx.serverKeys.signing.publicKey)).toThrow(
      /digest|SHA-256/i,
    );

    const tamperedSignature = { ...model, signature: model.signature.slice() };
    tamperedSignature.signature[5] ^= 0x01;
    expect(() =>
      m.pq.verifySignedModel(tamperedSignature, ctx.serverKeys.signing.publicKey),
    ).toThrow(/signature/);
  });
});
