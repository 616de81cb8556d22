/**
 * The client SDK against the real client routes: QSFLClient talks HTTP to a node:http server on
 * 127.0.0.1 that hands each request to the app/api/v1 route handlers, which use a real
 * PostgreSQL database. The adapter can respond in place of a route (a 503 from a restarting
 * server) or alter a response (a tampered model) to exercise the SDK's retries and checks.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type ClientLogger,
  QSFLClient,
  type QSFLClientOptions,
  VerificationError,
} from "@/lib/client";
import { manifestForSpec, parseModelSpec } from "@/lib/ml/spec";
import { parameterCount, unflattenWeights, type Weights } from "@/lib/tensors";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

const configDir = mkdtempSync(path.join(tmpdir(), "qsfl-client-sdk-"));
const configFile = path.join(configDir, "config.yaml");
writeFileSync(configFile, "security:\n  maxUpdateBytes: 1048576\n");
process.env.QSFL_CONFIG = configFile;
process.env.QSFL_MASTER_KEY = "22".repeat(32);

const SPEC = { architecture: "mlp", hidden: [4] };
const MANIFEST = manifestForSpec(parseModelSpec(SPEC));

type Modules = Awaited<ReturnType<typeof loadModules>>;

async function loadModules() {
  return {
    pq: await import("@/lib/pq"),
    db: await import("@/lib/db"),
    enrollment: await import("@/lib/auth/enrollment"),
    clientApi: await import("@/lib/http/client-api"),
    webBoss: await import("@/lib/web/boss"),
    keysRoute: await import("@/app/api/v1/server-keys/route"),
    enrollRoute: await import("@/app/api/v1/enroll/route"),
    sessionsRoute: await import("@/app/api/v1/sessions/route"),
    updatesRoute: await import("@/app/api/v1/updates/route"),
    rotateRoute: await import("@/app/api/v1/credentials/rotate/route"),
    roundRoute: await import("@/app/api/v1/federations/[federationId]/round/route"),
    modelRoute: await import("@/app/api/v1/federations/[federationId]/model/route"),
  };
}

/** Returns a response in place of the routes, or undefined to let the routes respond. */
type Hook = (request: Request) => Promise<Response | undefined> | Response | undefined;

let database: TestDatabase;
let m: Modules;
let server: http.Server;
let serverUrl = "";
let federationId = "";
let modelVersionId = "";
let roundNumber = 0;
let roundId = "";
let hook: Hook | undefined;
let alter: ((path: string, bytes: Uint8Array) => Uint8Array) | undefined;
const updateNonces: string[] = [];

function weights(offset = 0): Weights {
  const values = Float32Array.from(
    { length: parameterCount(MANIFEST) },
    (_, i) => Math.cos(i + offset) / 10,
  );
  return unflattenWeights(values, MANIFEST);
}

async function dispatch(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  const federation = /^\/api\/v1\/federations\/([^/]+)\/(round|model)$/.exec(pathname);
  if (federation) {
    const context = {
      params: Promise.resolve({ federationId: decodeURIComponent(federation[1]) }),
    };
    return federation[2] === "round"
      ? m.roundRoute.GET(request, context)
      : m.modelRoute.GET(request, context);
  }
  switch (`${request.method} ${pathname}`) {
    case "GET /api/v1/server-keys":
      return m.keysRoute.GET(request);
    case "POST /api/v1/enroll":
      return m.enrollRoute.POST(request);
    case "POST /api/v1/sessions":
      return m.sessionsRoute.POST(request);
    case "POST /api/v1/updates":
      return m.updatesRoute.POST(request);
    case "POST /api/v1/credentials/rotate":
      return m.rotateRoute.POST(request);
    default:
      return Response.json({ error: "not_found", message: pathname }, { status: 404 });
  }
}

async function handle(incoming: http.IncomingMessage, outgoing: http.ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (typeof value === "string") headers.set(name, value);
  }
  const request = new Request(`${serverUrl}${incoming.url}`, {
    method: incoming.method,
    headers,
    body: incoming.method === "GET" ? undefined : body,
  });
  if (new URL(request.url).pathname === "/api/v1/updates") {
    const parsed = m.pq.parseUpdateEnvelope(new Uint8Array(body), { maxBytes: 1 << 20 });
    updateNonces.push(m.pq.toHex(parsed.header.nonce));
  }
  const response = (await hook?.(request.clone())) ?? (await dispatch(request));
  let bytes: Uint8Array = new Uint8Array(await response.arrayBuffer());
  if (alter) bytes = alter(new URL(request.url).pathname, bytes);
  outgoing.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== "content-length") outgoing.setHeader(name, value);
  });
  outgoing.end(Buffer.from(bytes));
}

async function openRound(): Promise<void> {
  const prisma = m.db.getPrisma();
  if (roundId) {
    await prisma.round.update({ where: { id: roundId }, data: { status: "published" } });
  }
  roundNumber++;
  const round = await prisma.round.create({
    data: {
      federationId,
      number: roundNumber,
      quorum: 10,
      deadline: new Date(Date.now() + 3_600_000),
      baseModelVersionId: modelVersionId,
    },
  });
  roundId = round.id;
}

beforeAll(async () => {
  database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  m = await loadModules();
  const ctx = await m.clientApi.getIntakeContext();
  const prisma = m.db.getPrisma();
  const federation = await prisma.federation.create({
    data: { name: "client-sdk-test", modelSpec: SPEC, status: "running" },
  });
  federationId = federation.id;
  const signed = m.pq.signModel(
    { federationId, version: 0, weights: weights() },
    ctx.serverKeys.signing.secretKey,
  );
  const model = await prisma.modelVersion.create({
    data: {
      federationId,
      version: 0,
      manifest: signed.statement.manifest as object[],
      weights: Buffer.from(signed.payload),
      digest: m.pq.toHex(signed.statement.weightsDigest),
      signature: Buffer.from(signed.signature),
    },
  });
  modelVersionId = model.id;
  await openRound();

  server = http.createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch((error) => {
      outgoing.statusCode = 500;
      outgoing.end(JSON.stringify({ error: "adapter_failed", message: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await m?.webBoss.stopWebBoss();
  await m?.db.getPrisma().$disconnect();
  await database?.drop();
});

beforeEach(() => {
  hook = undefined;
  alter = undefined;
  updateNonces.length = 0;
});

const quiet: ClientLogger = { info: () => {}, warn: () => {} };

async function enrolledClient(
  clientId: string,
  options: Partial<QSFLClientOptions> = {},
): Promise<QSFLClient> {
  const token = await m.enrollment.issueEnrollmentToken(m.db.getPrisma(), {
    ttlMinutes: 10,
    clientId,
    federationId,
  });
  const client = new QSFLClient({
    serverUrl,
    clientId,
    stateDir: mkdtempSync(path.join(tmpdir(), `qsfl-sdk-${clientId}-`)),
    retry: { maxRetries: 3, baseDelayMs: 20, maxDelayMs: 100 },
    logger: quiet,
    ...options,
  });
  await client.enroll(token.token);
  return client;
}

describe("client SDK against the routes", () => {
  it("enrolls, downloads and submits", async () => {
    const client = await enrolledClient("sdk-alice");
    const info = await client.getRound(federationId);
    expect(info.federationStatus).toBe("running");
    expect(info.round?.roundId).toBe(roundId);
    expect(info.round?.baseModelVersion).toBe(0);
    expect(parseModelSpec(info.modelSpec).architecture).toBe("mlp");

    const model = await client.downloadModel(federationId, 0, MANIFEST);
    expect(model.weights[1].data).toEqual(weights()[1].data);

    const result = await client.submitUpdate({
      federationId,
      roundId,
      baseModelVersion: 0,
      numSamples: 64,
      weights: weights(1),
    });
    expect(result.status).toBe("accepted");
    const row = await m.db
      .getPrisma()
      .modelUpdate.findUnique({ where: { id: result.updateId ?? "" } });
    expect(row?.clientId).toBe("sdk-alice");
    expect(row?.numSamples).toBe(64);
    expect(row?.digest).toBe(m.pq.toHex(result.receipt?.payloadDigest ?? new Uint8Array()));

    const again = await client.submitUpdate({
      federationId,
      roundId,
      baseModelVersion: 0,
      numSamples: 64,
      weights: weights(1),
    });
    expect(again.status).toBe("duplicate");
  });

  it("retries a restarting server once per nonce", async () => {
    const client = await enrolledClient("sdk-bob");
    await client.openSession();
    let failures = 0;
    hook = (request) =>
      new URL(request.url).pathname === "/api/v1/updates" && failures++ < 2
        ? Response.json({ error: "unavailable", message: "restarting" }, { status: 503 })
        : undefined;
    const result = await client.submitUpdate({
      federationId,
      roundId,
      baseModelVersion: 0,
      numSamples: 10,
      weights: weights(2),
    });
    expect(result.status).toBe("accepted");
    expect(result.attempts).toBe(3);
    expect(updateNonces).toHaveLength(3);
    expect(new Set(updateNonces).size).toBe(3);
    const rows = await m.db.getPrisma().modelUpdate.findMany({ where: { clientId: "sdk-bob" } });
    expect(rows).toHaveLength(1);
    expect(m.pq.toHex(new Uint8Array(rows[0].nonce))).toBe(updateNonces[2]);
  });

  it("rejects a tampered model", async () => {
    const client = await enrolledClient("sdk-carol");
    alter = (pathname, bytes) => {
      if (!pathname.endsWith("/model")) return bytes;
      const tampered = bytes.slice();
      tampered[tampered.length - 3309 - 1] ^= 0x01;
      return tampered;
    };
    const error = await client.downloadModel(federationId, 0).catch((caught) => caught);
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).code).toBe("digest_mismatch");
  });

  it("checks pinned server keys", async () => {
    const keys = await (
      await m.keysRoute.GET(new Request(`${serverUrl}/api/v1/server-keys`))
    ).json();
    const pinned = await enrolledClient("sdk-dave", {
      pinnedSigningKeyFingerprint: keys.signing.fingerprint,
      pinnedKemKeyFingerprint: keys.kem.fingerprint,
    });
    expect((await pinned.openSession()).maxUpdates).toBeGreaterThan(0);
    const wrong = new QSFLClient({
      serverUrl,
      clientId: "sdk-dave",
      stateDir: pinned.stateDir,
      pinnedKemKeyFingerprint: "00".repeat(32),
      logger: quiet,
    });
    const error = await wrong.openSession().catch((caught) => caught);
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).code).toBe("pin_mismatch");
  });

  it("rotates keys and keeps submitting", async () => {
    const client = await enrolledClient("sdk-erin");
    await client.rotateKeys();
    await openRound();
    const result = await client.submitUpdate({
      federationId,
      roundId,
      baseModelVersion: 0,
      numSamples: 5,
      weights: weights(3),
    });
    expect(result.status).toBe("accepted");
    const credentials = await m.db
      .getPrisma()
      .credential.findMany({ where: { clientId: "sdk-erin" }, orderBy: { issuedAt: "asc" } });
    expect(credentials).toHaveLength(2);
  });
});
