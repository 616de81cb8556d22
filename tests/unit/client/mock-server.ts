/**
 * A stand-in for the QSFL-CAAD client routes on 127.0.0.1, for the SDK and CLI tests. It speaks
 * the real wire formats with the real lib/pq code (credentials, handshakes, envelopes, receipts,
 * signed models) and keeps its state in memory instead of PostgreSQL. Tests change its answers
 * with intercept(), for example to fail twice with 503 or to delay a reply past the timeout.
 */

import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  acceptHandshake,
  DilithiumSigner,
  decodeKeyRotation,
  EnvelopeError,
  encodeCredential,
  encodeReceipt,
  encodeSignedModel,
  ML_DSA_65,
  ProtocolError,
  parseHandshake,
  parseUpdateEnvelope,
  publicKeyFingerprint,
  type SignedModel,
  signCredential,
  signModel,
  signReceipt,
  toHex,
  verifyAndOpenUpdate,
  verifyEnrollmentProof,
  verifyKeyRotation,
  XWingKem,
} from "@/lib/pq";
import type { Weights } from "@/lib/tensors";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Uint8Array;
  requestId: string | undefined;
  /** performance.now() when the body had arrived. */
  atMs: number;
}

export interface Reply {
  status: number;
  json?: unknown;
  body?: Uint8Array;
  headers?: Record<string, string>;
}

/**
 * An interceptor returns a Reply to answer in place of the default route, `{ delayMs }` to run
 * the default route and hold its answer back, or undefined to let the default route answer.
 */
export type Interceptor = (request: RecordedRequest) => Reply | { delayMs: number } | undefined;

export interface StoredUpdate {
  updateId: string;
  clientId: string;
  roundId: string;
  nonce: string;
  numSamples: number;
  baseModelVersion: number;
  weights: Weights;
}

interface MockClient {
  signingPublicKey: Uint8Array;
  kemPublicKey: Uint8Array | null;
}

export class MockQsflServer {
  readonly signing = DilithiumSigner.generateKeypair();
  readonly kem = XWingKem.generateKeypair();
  url = "";
  federationId = "fed-1";
  federationStatus: "created" | "running" | "completed" | "stopped" = "running";
  modelSpec: unknown = { architecture: "mlp", hidden: [4] };
  plannedRounds = 2;
  round: {
    roundId: string;
    number: number;
    status: string;
    deadline: string;
    baseModelVersion: number;
  } | null = null;
  readonly requests: RecordedRequest[] = [];
  /** Nonces of every parsed update envelope, accepted or not, in arrival order. */
  readonly updateNonces: Array<{ nonce: string; atMs: number }> = [];
  readonly updates: StoredUpdate[] = [];
  readonly clients = new Map<string, MockClient>();
  readonly sessions = new Map<string, { clientId: string; key: Uint8Array }>();
  handshakes = 0;
  /** Secret key that signs credentials; a test sets another one to forge them. */
  credentialSigningKey: Uint8Array = this.signing.secretKey;
  /** Called after an update was stored; tests advance rounds from here. */
  onAccepted: (update: StoredUpdate) => void = () => {};
  private readonly models = new Map<number, SignedModel>();
  private readonly tokens = new Map<string, boolean>();
  private readonly interceptors: Array<{ path: string; handle: Interceptor }> = [];
  private serial = 0n;
  private server: http.Server | undefined;

  async start(): Promise<void> {
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((error) => {
        response.statusCode = 500;
        response.end(JSON.stringify({ error: "internal_error", message: String(error) }));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const address = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Adds an interceptor for requests whose path equals `path`; the newest runs first. */
  intercept(path: string, handle: Interceptor): void {
    this.interceptors.unshift({ path, handle });
  }

  clearInterceptors(): void {
    this.interceptors.length = 0;
  }

  issueToken(): string {
    const tokenId = crypto.randomUUID();
    const secret = toHex(crypto.getRandomValues(new Uint8Array(24)));
    this.tokens.set(`${tokenId}.${secret}`, false);
    return `${tokenId}.${secret}`;
  }

  publishModel(version: number, weights: Weights): SignedModel {
    const signed = signModel(
      { federationId: this.federationId, version, weights },
      this.signing.secretKey,
    );
    this.models.set(version, signed);
    return signed;
  }

  openRound(number: number, baseModelVersion: number): void {
    this.round = {
      roundId: `round-${number}`,
      number,
      status: "open",
      deadline: new Date(Date.now() + 3_600_000).toISOString(),
      baseModelVersion,
    };
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? "/", this.url);
    const recorded: RecordedRequest = {
      method: request.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      body: new Uint8Array(Buffer.concat(chunks)),
      requestId: request.headers["x-request-id"] as string | undefined,
      atMs: performance.now(),
    };
    this.requests.push(recorded);
    if (recorded.path === "/api/v1/updates") this.recordNonce(recorded.body);

    let delayMs = 0;
    for (const interceptor of this.interceptors) {
      if (interceptor.path !== recorded.path) continue;
      const result = interceptor.handle(recorded);
      if (result === undefined) continue;
      if ("status" in result) return send(response, result);
      delayMs = result.delayMs;
      break;
    }
    const reply = this.route(recorded);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    send(response, reply);
  }

  private recordNonce(body: Uint8Array): void {
    try {
      const parsed = parseUpdateEnvelope(body, { maxBytes: 64 * 1024 * 1024 });
      this.updateNonces.push({ nonce: toHex(parsed.header.nonce), atMs: performance.now() });
    } catch {
      // A malformed envelope has no nonce to record; the route rejects it.
    }
  }

  private route(request: RecordedRequest): Reply {
    const key = `${request.method} ${request.path}`;
    const federation = `/api/v1/federations/${this.federationId}`;
    switch (key) {
      case "GET /api/v1/server-keys":
        return { status: 200, json: this.serverKeys() };
      case "POST /api/v1/enroll":
        return this.enroll(JSON.parse(new TextDecoder().decode(request.body)));
      case "POST /api/v1/sessions":
        return this.openSession(request.body);
      case "POST /api/v1/updates":
        return this.receiveUpdate(request.body);
      case "POST /api/v1/credentials/rotate":
        return this.rotate(JSON.parse(new TextDecoder().decode(request.body)));
      case `GET ${federation}/round`:
        return {
          status: 200,
          json: {
            federationId: this.federationId,
            federationStatus: this.federationStatus,
            plannedRounds: this.plannedRounds,
            modelSpec: this.modelSpec,
            round: this.round,
          },
        };
      case `GET ${federation}/model`:
        return this.model(request.query.get("version"));
      default:
        return rejection(404, "not_found", `no route ${key}`);
    }
  }

  serverKeys() {
    return {
      signing: {
        algorithm: "ML-DSA-65",
        publicKey: base64(this.signing.publicKey),
        fingerprint: publicKeyFingerprint(this.signing.publicKey),
      },
      kem: {
        algorithm: "X-Wing (ML-KEM-768 + X25519)",
        publicKey: base64(this.kem.publicKey),
        fingerprint: publicKeyFingerprint(this.kem.publicKey),
      },
    };
  }

  private enroll(body: {
    token: string;
    clientId: string;
    signingPublicKey: string;
    kemPublicKey: string | null;
    proofSignature: string;
  }): Reply {
    if (this.tokens.get(body.token) !== false) {
      return rejection(401, "invalid_token", "the enrollment token is not valid");
    }
    const proof = {
      tokenId: body.token.slice(0, body.token.indexOf(".")),
      clientId: body.clientId,
      signingPublicKey: fromBase64(body.signingPublicKey),
      kemPublicKey: body.kemPublicKey === null ? null : fromBase64(body.kemPublicKey),
    };
    if (!verifyEnrollmentProof(proof, fromBase64(body.proofSignature))) {
      return rejection(401, "bad_signature", "the proof of possession does not verify");
    }
    this.tokens.set(body.token, true);
    return this.issueCredential(body.clientId, proof.signingPublicKey, proof.kemPublicKey);
  }

  private rotate(body: { clientId: string; rotation: string; signature: string }): Reply {
    const client = this.clients.get(body.clientId);
    if (!client) return rejection(401, "unknown_client", `client "${body.clientId}" is unknown`);
    const rotation = decodeKeyRotation(fromBase64(body.rotation));
    if (!verifyKeyRotation(rotation, fromBase64(body.signature), client.signingPublicKey)) {
      return rejection(409, "stale_rotation", "the rotation is not signed by the current key");
    }
    return this.issueCredential(
      body.clientId,
      rotation.newSigningPublicKey,
      rotation.newKemPublicKey,
    );
  }

  private issueCredential(
    clientId: string,
    signingPublicKey: Uint8Array,
    kemPublicKey: Uint8Array | null,
  ): Reply {
    this.serial++;
    const issuedAtMs = Date.now();
    const credential = {
      serial: this.serial,
      clientId,
      signingPublicKey,
      kemPublicKey,
      issuedAtMs,
      expiresAtMs: issuedAtMs + 90 * 86_400_000,
    };
    this.clients.set(clientId, { signingPublicKey, kemPublicKey });
    return {
      status: 201,
      json: {
        clientId,
        serial: this.serial.toString(),
        issuedAt: new Date(issuedAtMs).toISOString(),
        expiresAt: new Date(credential.expiresAtMs).toISOString(),
        credential: base64(encodeCredential(credential)),
        serverSignature: base64(signCredential(credential, this.credentialSigningKey)),
      },
    };
  }

  private openSession(body: Uint8Array): Reply {
    const parsed = parseHandshake(body);
    const client = this.clients.get(parsed.clientId);
    if (!client) return rejection(401, "unknown_client", `client "${parsed.clientId}" is unknown`);
    try {
      const session = acceptHandshake(parsed, {
        serverSecretKey: this.kem.secretKey,
        serverPublicKey: this.kem.publicKey,
        clientPublicKey: client.signingPublicKey,
        nowMs: Date.now(),
      });
      const sessionId = toHex(session.sessionId);
      if (this.sessions.has(sessionId)) {
        return rejection(409, "replayed_handshake", "this handshake was already used");
      }
      this.sessions.set(sessionId, { clientId: parsed.clientId, key: session.sessionKey });
      this.handshakes++;
      return {
        status: 201,
        json: {
          sessionId,
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          maxUpdates: 100,
        },
      };
    } catch (error) {
      if (error instanceof ProtocolError) return rejection(401, error.code, error.message);
      throw error;
    }
  }

  private receiveUpdate(body: Uint8Array): Reply {
    const parsed = parseUpdateEnvelope(body, { maxBytes: 64 * 1024 * 1024 });
    const { header } = parsed;
    const client = this.clients.get(header.clientId);
    if (!client) return rejection(401, "unknown_client", `client "${header.clientId}" is unknown`);
    const nonce = toHex(header.nonce);
    if (this.updates.some((u) => u.clientId === header.clientId && u.nonce === nonce)) {
      return rejection(409, "replayed_nonce", `nonce ${nonce} was already used`);
    }
    const session = this.sessions.get(toHex(parsed.sessionId));
    if (!session || session.clientId !== header.clientId) {
      return rejection(401, "unknown_session", "unknown session; open a new session");
    }
    if (this.round === null || header.roundId !== this.round.roundId) {
      return rejection(409, "round_mismatch", `round ${header.roundId} is not open`);
    }
    if (this.round.status !== "open" && this.round.status !== "collecting") {
      return rejection(409, "round_closed", `round ${this.round.number} is ${this.round.status}`);
    }
    if (this.updates.some((u) => u.clientId === header.clientId && u.roundId === header.roundId)) {
      return rejection(409, "duplicate_update", `${header.clientId} already submitted`);
    }
    let weights: Weights;
    try {
      weights = verifyAndOpenUpdate(parsed, {
        clientPublicKey: client.signingPublicKey,
        sessionKey: session.key,
      });
    } catch (error) {
      if (error instanceof EnvelopeError) return rejection(401, error.code, error.message);
      throw error;
    }
    const update: StoredUpdate = {
      updateId: crypto.randomUUID(),
      clientId: header.clientId,
      roundId: header.roundId,
      nonce,
      numSamples: header.numSamples,
      baseModelVersion: header.baseModelVersion,
      weights,
    };
    this.updates.push(update);
    const receipt = {
      updateId: update.updateId,
      clientId: update.clientId,
      roundId: update.roundId,
      payloadDigest: header.payloadDigest,
      receivedAtMs: Date.now(),
    };
    const reply = {
      status: 202,
      json: {
        updateId: update.updateId,
        roundId: update.roundId,
        receipt: base64(encodeReceipt(receipt)),
        receiptSignature: base64(signReceipt(receipt, this.signing.secretKey)),
      },
    };
    this.onAccepted(update);
    return reply;
  }

  private model(versionParam: string | null): Reply {
    const versions = [...this.models.keys()].sort((a, b) => b - a);
    const version = versionParam === null ? versions[0] : Number(versionParam);
    const model = version === undefined ? undefined : this.models.get(version);
    if (!model) return rejection(404, "not_found", `no model version ${versionParam}`);
    return {
      status: 200,
      body: encodeSignedModel(model),
      headers: { "content-type": "application/octet-stream" },
    };
  }
}

export function rejection(status: number, code: string, message: string): Reply {
  return { status, json: { error: code, message, requestId: crypto.randomUUID() } };
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

export function fromBase64(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value, "base64"));
}

/** Returns the ML-DSA-65 signature length, for tests that cut or corrupt a signature. */
export const SIGNATURE_BYTES = ML_DSA_65.signatureBytes;

function send(response: http.ServerResponse, reply: Reply): void {
  if (response.destroyed) return;
  response.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers ?? {})) response.setHeader(name, value);
  if (reply.json !== undefined) {
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify(reply.json));
    return;
  }
  response.end(reply.body === undefined ? undefined : Buffer.from(reply.body));
}
