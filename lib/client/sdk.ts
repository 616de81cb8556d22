/**
 * QSFLClient: the client side of the QSFL-CAAD REST protocol (docs/protocol.md), used by the
 * qsfl-client CLI and the demos.
 *
 * Guarantees, each enforced below:
 * - Private keys never leave the client. enroll() and rotateKeys() generate the ML-DSA-65 and
 *   X-Wing key pairs locally and send only public keys, with a signature that proves possession.
 *   The secret keys are stored in the state folder with mode 0600 and nowhere else.
 * - Every response that carries a server signature is verified before it is used: the credential
 *   (enrollment and rotation), every downloaded model (signature, SHA-256 digest, layout, finite
 *   values, federation and version) and the receipt of every accepted update.
 * - The server's ML-DSA-65 key is trusted on first use at enrollment, or checked against a pinned
 *   fingerprint, and a later change is rejected. Pinning the X-Wing key fingerprint as well stops
 *   an active attacker from substituting the key that protects update confidentiality.
 * - No update nonce is sent twice. Every attempt of submitUpdate seals the update again with a
 *   fresh 16-byte random nonce and a fresh timestamp, and the client also tracks the nonces of the
 *   current session.
 *
 * Retries follow retry.ts: GET requests, session handshakes and update uploads are retried on
 * timeouts, network errors, HTTP 429 and 5xx. Enrollment and key rotation are sent once, because
 * a lost response cannot be told apart from a failure and a second attempt would be rejected as a
 * used token or a stale rotation.
 */

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { CLIENT_ID_PATTERN } from "../auth/enrollment";
import { logger as defaultLogger } from "../logger";
import {
  type ClientCredential,
  createHandshake,
  decodeCredential,
  decodeReceipt,
  decodeSignedModel,
  encodeKeyRotation,
  encodeWeightsPayload,
  equalBytes,
  NONCE_BYTES,
  ProtocolError,
  publicKeyFingerprint,
  randomBytes,
  sealUpdate,
  sha256,
  signEnrollmentProof,
  signKeyRotation,
  toHex,
  type UpdateReceipt,
  verifyCredential,
  verifyReceipt,
  verifySignedModel,
  wipe,
} from "../pq";
import type { TensorSpec, Weights } from "../tensors";
import {
  type ClientError,
  ServerRejectedError,
  StateError,
  TransportError,
  VerificationError,
} from "./errors";
import { type HttpRequest, type HttpResponse, sendRequest } from "./http";
import {
  credentialResponseSchema,
  fromBase64,
  parseJsonBody,
  rejectionSchema,
  roundInfoSchema,
  serverKeysSchema,
  sessionResponseSchema,
  toBase64,
  updateResponseSchema,
} from "./responses";
import {
  assertRetryPolicy,
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  isRetryableStatus,
  parseRetryAfter,
  type RetryPolicy,
} from "./retry";
import {
  type ClientKeys,
  type ClientState,
  generateClientKeys,
  readState,
  writeState,
} from "./state";

/** The part of a pino logger that the SDK uses. */
export interface ClientLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface QSFLClientOptions {
  /** Base URL of the server, such as http://127.0.0.1:3000. */
  serverUrl: string;
  /** 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit. */
  clientId: string;
  /** Folder of the keys and credential files, created with mode 0700 when missing. */
  stateDir: string;
  /** Lowercase hex SHA-256 of the server's ML-DSA-65 public key; rejects any other key. */
  pinnedSigningKeyFingerprint?: string;
  /** Lowercase hex SHA-256 of the server's X-Wing public key; rejects any other key. */
  pinnedKemKeyFingerprint?: string;
  /** Time limit of one HTTP attempt, body included, in milliseconds; 30,000 by default. */
  timeoutMs?: number;
  /** Retry policy; fields left out take DEFAULT_RETRY_POLICY's values. */
  retry?: Partial<RetryPolicy>;
  logger?: ClientLogger;
  /** Source of the backoff jitter, uniform in [0, 1); Math.random by default. */
  random?: () => number;
}

export interface EnrollmentSummary {
  clientId: string;
  serial: bigint;
  expiresAtMs: number;
  serverSigningKeyFingerprint: string;
}

export interface ServerPublicKeys {
  signingPublicKey: Uint8Array;
  signingKeyFingerprint: string;
  kemPublicKey: Uint8Array;
  kemKeyFingerprint: string;
}

export interface SessionSummary {
  sessionId: string;
  expiresAtMs: number;
  maxUpdates: number;
}

export type FederationStatus = "created" | "running" | "completed" | "stopped";
export type RoundStatus = "open" | "collecting" | "aggregating" | "published" | "failed";

export interface RoundInfo {
  federationId: string;
  federationStatus: FederationStatus;
  plannedRounds: number;
  /** Federation.modelSpec as stored; parse it with parseModelSpec from lib/ml. */
  modelSpec: unknown;
  round: {
    roundId: string;
    number: number;
    status: RoundStatus;
    deadlineMs: number;
    baseModelVersion: number;
  } | null;
}

export interface VerifiedModel {
  federationId: string;
  version: number;
  manifest: TensorSpec[];
  weights: Weights;
  /** Lowercase hex SHA-256 of the weights payload, as signed by the server. */
  digest: string;
}

export interface UpdateSubmission {
  federationId: string;
  roundId: string;
  baseModelVersion: number;
  /** Training samples behind the update, its FedAvg weight; at least 1. */
  numSamples: number;
  weights: Weights;
}

export interface SubmitResult {
  /**
   * "accepted": the server stored the update and sent a receipt that verified. "duplicate": the
   * server already stores this client's update for the round (HTTP 409 duplicate_update), which
   * happens when an earlier attempt succeeded but its response was lost.
   */
  status: "accepted" | "duplicate";
  updateId: string | null;
  receipt: UpdateReceipt | null;
  /** HTTP requests sent to /api/v1/updates, retries and session renewals included. */
  attempts: number;
  /** Milliseconds from the first attempt to the final response, session handshakes included. */
  uploadMs: number;
}

interface ActiveSession {
  id: Uint8Array;
  key: Uint8Array;
  expiresAtMs: number;
  maxUpdates: number;
  updatesUsed: number;
  nonces: Set<string>;
}

/** A session is renewed this long before the server's expiry, to absorb clock skew. */
const SESSION_RENEWAL_MARGIN_MS = 30_000;
/** Session renewals one submitUpdate call may make after 401 unknown_session or session_expired. */
const MAX_SESSION_RENEWALS = 2;
const DEFAULT_TIMEOUT_MS = 30_000;
const HEX_FINGERPRINT = /^[0-9a-f]{64}$/;

export class QSFLClient {
  readonly clientId: string;
  readonly serverUrl: string;
  readonly stateDir: string;
  private readonly pinnedSigningKeyFingerprint: string | undefined;
  private readonly pinnedKemKeyFingerprint: string | undefined;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly logger: ClientLogger;
  private readonly random: () => number;
  private state: ClientState | undefined;
  private session: ActiveSession | undefined;

  constructor(options: QSFLClientOptions) {
    if (options === null || typeof options !== "object") {
      throw new TypeError("options: expected { serverUrl, clientId, stateDir, ... }");
    }
    this.serverUrl = normaliseServerUrl(options.serverUrl);

    if (typeof options.clientId !== "string" || !CLIENT_ID_PATTERN.test(options.clientId)) {
      throw new RangeError(
        `clientId: expected 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, got ${JSON.stringify(options.clientId)}`,
      );
    }
    this.clientId = options.clientId;

    if (typeof options.stateDir !== "string" || options.stateDir.length === 0) {
      throw new TypeError(
        `stateDir: expected a folder path, got ${JSON.stringify(options.stateDir)}`,
      );
    }
    this.stateDir = options.stateDir;

    this.pinnedSigningKeyFingerprint = checkFingerprint(
      options.pinnedSigningKeyFingerprint,
      "pinnedSigningKeyFingerprint",
    );
    this.pinnedKemKeyFingerprint = checkFingerprint(
      options.pinnedKemKeyFingerprint,
      "pinnedKemKeyFingerprint",
    );

    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isSafeInteger(this.timeoutMs) || this.timeoutMs < 1) {
      throw new RangeError(`timeoutMs: expected an integer >= 1, got ${String(options.timeoutMs)}`);
    }
    this.retry = assertRetryPolicy({ ...DEFAULT_RETRY_POLICY, ...options.retry });
    this.logger = options.logger ?? defaultLogger;
    this.random = options.random ?? Math.random;
  }

  // -------------------------------------------------------------------------------------------
  // Enrollment and state

  /**
   * Enrolls this client with a one-time token (`<tokenId>.<secret>`, issued by an operator):
   * generates fresh key pairs, proves possession of the ML-DSA-65 key, verifies the credential
   * the server returns and saves keys and credential in the state folder. An earlier enrollment
   * in the folder is replaced only after the new credential verified.
   */
  async enroll(token: string): Promise<EnrollmentSummary> {
    const tokenId = tokenIdOf(token);
    const serverKeys = await this.fetchServerKeys({ trustOnFirstUse: false });
    const keys = generateClientKeys();
    const proof = {
      tokenId,
      clientId: this.clientId,
      signingPublicKey: keys.signing.publicKey,
      kemPublicKey: keys.kem.publicKey,
    };
    const proofSignature = signEnrollmentProof(proof, keys.signing.secretKey);
    const body = JSON.stringify({
      token,
      clientId: this.clientId,
      signingPublicKey: toBase64(keys.signing.publicKey),
      kemPublicKey: toBase64(keys.kem.publicKey),
      proofSignature: toBase64(proofSignature),
    });

    const { response, attempts } = await this.exchange(
      "enroll",
      () => this.request("POST", "/api/v1/enroll", { contentType: "application/json", body }),
      { retries: 0 },
    );
    if (response.status !== 201) throw this.rejection("enroll", response, attempts);
    const state = this.acceptCredential("enroll", response, keys, serverKeys.signingPublicKey);
    writeState(this.stateDir, state);
    this.replaceState(state);
    this.logger.info(
      { clientId: this.clientId, serial: state.credential.serial.toString() },
      "enrolled",
    );
    return this.summary(state);
  }

  /**
   * Loads the keys and credential saved by an earlier enroll() or rotateKeys(). Throws StateError
   * with reason "missing" when the folder contains no enrollment, and "invalid" when the files are
   * unreadable, readable by others, inconsistent, or belong to another client.
   */
  loadState(): EnrollmentSummary & { expired: boolean } {
    const state = readState(this.stateDir);
    if (state === null) {
      throw new StateError(
        this.stateDir,
        `${this.stateDir} contains no enrollment for "${this.clientId}"; enroll with a token first`,
        "missing",
      );
    }
    if (state.clientId !== this.clientId) {
      throw new StateError(
        this.stateDir,
        `${this.stateDir} contains the enrollment of "${state.clientId}", not "${this.clientId}"; use another state folder`,
      );
    }
    if (
      this.pinnedSigningKeyFingerprint !== undefined &&
      publicKeyFingerprint(state.serverSigningPublicKey) !== this.pinnedSigningKeyFingerprint
    ) {
      throw new VerificationError(
        "server_key",
        "pin_mismatch",
        `the enrollment in ${this.stateDir} trusts server key ${publicKeyFingerprint(state.serverSigningPublicKey)}, not the pinned ${this.pinnedSigningKeyFingerprint}`,
      );
    }
    this.replaceState(state);
    return { ...this.summary(state), expired: state.credential.expiresAtMs <= Date.now() };
  }

  /**
   * Replaces this client's keys: signs a rotation statement with the current ML-DSA-65 key,
   * verifies the new credential and saves the new state. The current session is closed because
   * the server expects the new key from now on.
   */
  async rotateKeys(): Promise<EnrollmentSummary> {
    const current = this.requireState();
    const keys = generateClientKeys();
    const rotation = {
      clientId: this.clientId,
      oldKeyFingerprint: sha256(current.keys.signing.publicKey),
      newSigningPublicKey: keys.signing.publicKey,
      newKemPublicKey: keys.kem.publicKey,
      timestampMs: Date.now(),
    };
    const signature = signKeyRotation(rotation, current.keys.signing.secretKey);
    const body = JSON.stringify({
      clientId: this.clientId,
      rotation: toBase64(encodeKeyRotation(rotation)),
      signature: toBase64(signature),
    });

    const { response, attempts } = await this.exchange(
      "rotate keys",
      () =>
        this.request("POST", "/api/v1/credentials/rotate", {
          contentType: "application/json",
          body,
        }),
      { retries: 0 },
    );
    if (response.status !== 201) throw this.rejection("rotate keys", response, attempts);
    const state = this.acceptCredential(
      "rotate keys",
      response,
      keys,
      current.serverSigningPublicKey,
    );
    // NOTE: a crash between the server's response and this write loses the new keys, and the
    // client must then enroll again with a new token.
    writeState(this.stateDir, state);
    this.replaceState(state);
    this.logger.info(
      { clientId: this.clientId, serial: state.credential.serial.toString() },
      "rotated keys",
    );
    return this.summary(state);
  }

  /**
   * Fetches the server's public keys and checks them: each fingerprint the server sends must be
   * the SHA-256 of its key, and the keys must match the pinned fingerprints. With
   * trustOnFirstUse (the default), the signing key must also be the one trusted at enrollment.
   */
  async fetchServerKeys(options: { trustOnFirstUse?: boolean } = {}): Promise<ServerPublicKeys> {
    const { response, attempts } = await this.exchange("fetch server keys", () =>
      this.request("GET", "/api/v1/server-keys"),
    );
    if (response.status !== 200) throw this.rejection("fetch server keys", response, attempts);
    const body = parseJsonBody(serverKeysSchema, response.body, "fetch server keys");
    const keys: ServerPublicKeys = {
      signingPublicKey: fromBase64(body.signing.publicKey),
      signingKeyFingerprint: "",
      kemPublicKey: fromBase64(body.kem.publicKey),
      kemKeyFingerprint: "",
    };
    keys.signingKeyFingerprint = publicKeyFingerprint(keys.signingPublicKey);
    keys.kemKeyFingerprint = publicKeyFingerprint(keys.kemPublicKey);

    if (
      keys.signingKeyFingerprint !== body.signing.fingerprint ||
      keys.kemKeyFingerprint !== body.kem.fingerprint
    ) {
      throw new VerificationError(
        "server_key",
        "invalid_response",
        "the server's key fingerprints are not the SHA-256 of the keys it sent",
      );
    }

    checkPin(keys.signingKeyFingerprint, this.pinnedSigningKeyFingerprint, "ML-DSA-65 signing");
    checkPin(keys.kemKeyFingerprint, this.pinnedKemKeyFingerprint, "X-Wing");
    const trusted = this.state?.serverSigningPublicKey;
    if (
      (options.trustOnFirstUse ?? true) &&
      trusted !== undefined &&
      !equalBytes(trusted, keys.signingPublicKey)
    ) {
      throw new VerificationError(
        "server_key",
        "server_key_changed",
        `the server's signing key is now ${keys.signingKeyFingerprint}, but this client enrolled under ${publicKeyFingerprint(trusted)}; enroll again if the operator rotated the server key`,
      );
    }
    return keys;
  }

  // -------------------------------------------------------------------------------------------
  // Sessions, rounds, models and updates

  /**
   * Opens a post-quantum session: fetches and checks the server's X-Wing key, sends a signed
   * handshake and checks that the server derived the same session id. Closes any earlier session.
   */
  async openSession(): Promise<SessionSummary> {
    const state = this.requireState();
    const serverKeys = await this.fetchServerKeys();
    let pending: ReturnType<typeof createHandshake> | undefined;
    const { response, attempts } = await this.exchange("open session", () => {
      // A fresh handshake per attempt: the server rejects a handshake it has already accepted.
      if (pending) wipe(pending.session.sessionKey);
      pending = createHandshake({
        clientId: this.clientId,
        serverPublicKey: serverKeys.kemPublicKey,
        signingSecretKey: state.keys.signing.secretKey,
      });
      return this.request("POST", "/api/v1/sessions", {
        contentType: "application/octet-stream",
        body: pending.message,
      });
    });

    const handshake = pending as ReturnType<typeof createHandshake>;
    if (response.status !== 201) {
      wipe(handshake.session.sessionKey);
      throw this.rejection("open session", response, attempts);
    }
    const body = parseJsonBody(sessionResponseSchema, response.body, "open session");
    if (body.sessionId !== toHex(handshake.session.sessionId)) {
      wipe(handshake.session.sessionKey);
      throw new VerificationError(
        "session",
        "session_mismatch",
        `the server derived session ${body.sessionId}, this client ${toHex(handshake.session.sessionId)}`,
      );
    }

    this.closeSession();
    this.session = {
      id: handshake.session.sessionId,
      key: handshake.session.sessionKey,
      expiresAtMs: Date.parse(body.expiresAt),
      maxUpdates: body.maxUpdates,
      updatesUsed: 0,
      nonces: new Set(),
    };
    this.logger.info(
      { clientId: this.clientId, sessionId: body.sessionId, expiresAt: body.expiresAt },
      "opened session",
    );
    return {
      sessionId: body.sessionId,
      expiresAtMs: this.session.expiresAtMs,
      maxUpdates: body.maxUpdates,
    };
  }

  /** Returns the federation's status and its newest round. */
  async getRound(federationId: string): Promise<RoundInfo> {
    const path = `/api/v1/federations/${encodePathSegment(federationId, "federationId")}/round`;
    const { response, attempts } = await this.exchange("get round", () =>
      this.request("GET", path),
    );
    if (response.status !== 200) throw this.rejection("get round", response, attempts);
    const body = parseJsonBody(roundInfoSchema, response.body, "get round");
    if (body.federationId !== federationId) {
      throw new VerificationError(
        "response",
        "wrong_federation",
        `requested federation ${federationId}, the server responded for ${body.federationId}`,
      );
    }
    return {
      federationId: body.federationId,
      federationStatus: body.federationStatus,
      plannedRounds: body.plannedRounds,
      modelSpec: body.modelSpec,
      round:
        body.round === null
          ? null
          : {
              roundId: body.round.roundId,
              number: body.round.number,
              status: body.round.status,
              deadlineMs: Date.parse(body.round.deadline),
              baseModelVersion: body.round.baseModelVersion,
            },
    };
  }

  /**
   * Downloads a global model (the newest when `version` is absent) and verifies it under the
   * server key trusted at enrollment. Throws VerificationError with subject "model" and code
   * "bad_signature", "digest_mismatch", "manifest_mismatch" (against `expectedManifest`),
   * "malformed", "non_finite", "wrong_federation" or "wrong_version"; the weights are never
   * returned in those cases.
   */
  async downloadModel(
    federationId: string,
    version?: number,
    expectedManifest?: readonly TensorSpec[],
  ): Promise<VerifiedModel> {
    const state = this.requireState();
    if (version !== undefined && (!Number.isSafeInteger(version) || version < 0)) {
      throw new RangeError(`version: expected an integer >= 0, got ${String(version)}`);
    }
    const query = version === undefined ? "" : `?version=${version}`;
    const path = `/api/v1/federations/${encodePathSegment(federationId, "federationId")}/model${query}`;
    const { response, attempts } = await this.exchange("download model", () =>
      this.request("GET", path),
    );
    if (response.status !== 200) throw this.rejection("download model", response, attempts);

    let weights: Weights;
    let model: ReturnType<typeof decodeSignedModel>;
    try {
      model = decodeSignedModel(response.body);
      weights = verifySignedModel(model, state.serverSigningPublicKey, expectedManifest);
    } catch (error) {
      if (error instanceof ProtocolError) {
        throw new VerificationError("model", error.code, `rejected model: ${error.message}`);
      }
      throw error;
    }
    const { statement } = model;
    if (statement.federationId !== federationId) {
      throw new VerificationError(
        "model",
        "wrong_federation",
        `rejected model: signed for federation ${statement.federationId}, requested ${federationId}`,
      );
    }
    if (version !== undefined && statement.version !== version) {
      throw new VerificationError(
        "model",
        "wrong_version",
        `rejected model: signed as version ${statement.version}, requested ${version}`,
      );
    }
    return {
      federationId,
      version: statement.version,
      manifest: statement.manifest,
      weights,
      digest: toHex(statement.weightsDigest),
    };
  }

  /**
   * Seals and uploads one update, then verifies the server's receipt. Retries follow the retry
   * policy, each attempt sealed again with a fresh nonce. A 401 unknown_session or
   * session_expired opens a new session and tries again (at most twice per call), and a 409
   * duplicate_update counts as already accepted. Any other 4xx throws ServerRejectedError with
   * the server's code and message.
   */
  async submitUpdate(update: UpdateSubmission): Promise<SubmitResult> {
    const state = this.requireState();
    checkSubmission(update);
    const payloadDigest = sha256(encodeWeightsPayload(update.weights));
    const started = performance.now();
    let attempts = 0;

    for (let renewals = 0; ; renewals++) {
      const session = this.usableSession() ?? (await this.openSessionFor(update));
      const exchanged = await this.exchange("submit update", () => {
        const nonce = freshNonce(session);
        const envelope = sealUpdate({
          clientId: this.clientId,
          federationId: update.federationId,
          roundId: update.roundId,
          baseModelVersion: update.baseModelVersion,
          numSamples: update.numSamples,
          weights: update.weights,
          sessionId: session.id,
          sessionKey: session.key,
          signingSecretKey: state.keys.signing.secretKey,
          nonce,
        });
        return this.request("POST", "/api/v1/updates", {
          contentType: "application/octet-stream",
          body: envelope,
        });
      });
      attempts += exchanged.attempts;
      const { response } = exchanged;
      const uploadMs = () => Math.round(performance.now() - started);

      if (response.status === 202) {
        session.updatesUsed++;
        const accepted = this.verifyUpdateResponse(response, update.roundId, payloadDigest);
        return { status: "accepted", ...accepted, attempts, uploadMs: uploadMs() };
      }
      const rejection = parseRejection(response);
      if (response.status === 409 && rejection.code === "duplicate_update") {
        this.logger.info(
          { clientId: this.clientId, roundId: update.roundId, requestId: rejection.requestId },
          "the server already stores this round's update; an earlier attempt succeeded",
        );
        return {
          status: "duplicate",
          updateId: null,
          receipt: null,
          attempts,
          uploadMs: uploadMs(),
        };
      }
      const sessionLost =
        response.status === 401 &&
        (rejection.code === "unknown_session" || rejection.code === "session_expired");
      if (sessionLost && renewals < MAX_SESSION_RENEWALS) {
        this.logger.warn(
          { clientId: this.clientId, code: rejection.code, requestId: rejection.requestId },
          "the server no longer accepts this session; opening a new one",
        );
        this.closeSession();
        continue;
      }
      throw this.rejection("submit update", response, attempts);
    }
  }

  /** Wipes the session key and the secret keys held in memory. */
  close(): void {
    this.closeSession();
    if (this.state) wipe(this.state.keys.signing.secretKey, this.state.keys.kem.secretKey);
    this.state = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private requireState(): ClientState {
    if (this.state === undefined) this.loadState();
    return this.state as ClientState;
  }

  private replaceState(state: ClientState): void {
    if (this.state && this.state !== state) {
      wipe(this.state.keys.signing.secretKey, this.state.keys.kem.secretKey);
    }
    this.closeSession();
    this.state = state;
  }

  private summary(state: ClientState): EnrollmentSummary {
    return {
      clientId: state.clientId,
      serial: state.credential.serial,
      expiresAtMs: state.credential.expiresAtMs,
      serverSigningKeyFingerprint: publicKeyFingerprint(state.serverSigningPublicKey),
    };
  }

  /** Checks a credential response (enroll or rotate) and returns the state it establishes. */
  private acceptCredential(
    operation: string,
    response: HttpResponse,
    keys: ClientKeys,
    serverSigningPublicKey: Uint8Array,
  ): ClientState {
    const body = parseJsonBody(credentialResponseSchema, response.body, operation);
    const signature = fromBase64(body.serverSignature);
    let credential: ClientCredential;
    try {
      credential = decodeCredential(fromBase64(body.credential));
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      throw new VerificationError("credential", error.code, `${operation}: ${error.message}`);
    }
    if (!verifyCredential(credential, signature, serverSigningPublicKey)) {
      throw new VerificationError(
        "credential",
        "bad_signature",
        `${operation}: the credential's server signature does not verify under ${publicKeyFingerprint(serverSigningPublicKey)}`,
      );
    }
    if (credential.clientId !== this.clientId) {
      throw new VerificationError(
        "credential",
        "wrong_client",
        `${operation}: the credential names "${credential.clientId}", not "${this.clientId}"`,
      );
    }
    const kemMatches =
      credential.kemPublicKey !== null && equalBytes(credential.kemPublicKey, keys.kem.publicKey);
    if (!equalBytes(credential.signingPublicKey, keys.signing.publicKey) || !kemMatches) {
      throw new VerificationError(
        "credential",
        "key_mismatch",
        `${operation}: the credential certifies other public keys than this client generated`,
      );
    }
    if (credential.expiresAtMs <= Date.now()) {
      throw new VerificationError(
        "credential",
        "expired",
        `${operation}: the new credential expired at ${new Date(credential.expiresAtMs).toISOString()}`,
      );
    }
    return {
      clientId: this.clientId,
      keys,
      credential,
      credentialSignature: signature,
      serverSigningPublicKey,
    };
  }

  private verifyUpdateResponse(
    response: HttpResponse,
    roundId: string,
    payloadDigest: Uint8Array,
  ): { updateId: string; receipt: UpdateReceipt } {
    const state = this.requireState();
    const body = parseJsonBody(updateResponseSchema, response.body, "submit update");
    let receipt: UpdateReceipt;
    try {
      receipt = decodeReceipt(fromBase64(body.receipt));
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      throw new VerificationError("receipt", error.code, `rejected receipt: ${error.message}`);
    }
    const signature = fromBase64(body.receiptSignature);
    if (!verifyReceipt(receipt, signature, state.serverSigningPublicKey)) {
      throw new VerificationError(
        "receipt",
        "bad_signature",
        `rejected receipt for update ${body.updateId}: the server signature does not verify`,
      );
    }
    const reject = (code: string, reason: string) =>
      new VerificationError(
        "receipt",
        code,
        `rejected receipt for update ${body.updateId}: ${reason}`,
      );
    if (receipt.updateId !== body.updateId) {
      throw reject("wrong_update", `it names update ${receipt.updateId}`);
    }
    if (receipt.clientId !== this.clientId) {
      throw reject("wrong_client", `it names client "${receipt.clientId}", not "${this.clientId}"`);
    }
    if (receipt.roundId !== roundId) {
      throw reject(
        "wrong_round",
        `it names round ${receipt.roundId}, the update was for ${roundId}`,
      );
    }
    if (!equalBytes(receipt.payloadDigest, payloadDigest)) {
      throw reject("digest_mismatch", "it covers another payload than the one this client sealed");
    }
    return { updateId: body.updateId, receipt };
  }

  private usableSession(): ActiveSession | undefined {
    const session = this.session;
    if (session === undefined) return undefined;
    const expiring = Date.now() >= session.expiresAtMs - SESSION_RENEWAL_MARGIN_MS;
    if (expiring || session.updatesUsed >= session.maxUpdates) {
      this.closeSession();
      return undefined;
    }
    return session;
  }

  private async openSessionFor(update: UpdateSubmission): Promise<ActiveSession> {
    this.logger.info(
      { clientId: this.clientId, roundId: update.roundId },
      "opening a session for the update",
    );
    await this.openSession();
    return this.session as ActiveSession;
  }

  private closeSession(): void {
    if (this.session) wipe(this.session.key);
    this.session = undefined;
  }

  private request(
    method: "GET" | "POST",
    path: string,
    options: Pick<HttpRequest, "contentType" | "body"> = {},
  ): HttpRequest {
    return { method, url: `${this.serverUrl}${path}`, requestId: randomUUID(), ...options };
  }

  /**
   * Sends the request that `build` makes, once per attempt, and retries timeouts, network errors,
   * 429 and 5xx with backoff. Returns the first other response. Throws TransportError or
   * ServerRejectedError when the last allowed attempt fails too.
   */
  private async exchange(
    operation: string,
    build: () => HttpRequest,
    options: { retries?: number } = {},
  ): Promise<{ response: HttpResponse; attempts: number }> {
    const retries = options.retries ?? this.retry.maxRetries;
    for (let attempt = 0; ; attempt++) {
      const request = build();
      let response: HttpResponse | undefined;
      let failure: TransportError | undefined;
      try {
        response = await sendRequest(request, this.timeoutMs);
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        failure = error;
      }
      if (response !== undefined && !isRetryableStatus(response.status)) {
        return { response, attempts: attempt + 1 };
      }
      if (attempt >= retries) {
        if (response !== undefined) throw this.rejection(operation, response, attempt + 1);
        const last = failure as TransportError;
        throw new TransportError(
          last.kind,
          last.url,
          attempt + 1,
          `${operation}: ${last.message} (${attempt + 1} attempt${attempt === 0 ? "" : "s"})`,
          { cause: last },
        );
      }
      const retryAfterMs =
        response && parseRetryAfter(response.headers.get("retry-after"), Date.now());
      const delayMs = backoffDelayMs(this.retry, attempt, this.random(), retryAfterMs);
      this.logger.warn(
        {
          clientId: this.clientId,
          operation,
          attempt: attempt + 1,
          requestId: request.requestId,
          ...(response ? { status: response.status } : { error: failure?.message }),
          delayMs,
        },
        `${operation} failed; retrying`,
      );
      await sleep(delayMs);
    }
  }

  private rejection(operation: string, response: HttpResponse, attempts: number): ClientError {
    const rejection = parseRejection(response);
    return new ServerRejectedError(
      response.status,
      rejection.code,
      rejection.message,
      rejection.requestId,
      operation,
      attempts,
    );
  }
}

function parseRejection(response: HttpResponse): {
  code: string;
  message: string;
  requestId: string | undefined;
} {
  const fallback = {
    code: `http_${response.status}`,
    message: new TextDecoder().decode(response.body.subarray(0, 500)).trim() || "no details",
    requestId: response.headers.get("x-request-id") ?? undefined,
  };
  try {
    const parsed = rejectionSchema.safeParse(JSON.parse(new TextDecoder().decode(response.body)));
    if (!parsed.success) return fallback;
    return {
      code: parsed.data.error,
      message: parsed.data.message,
      requestId: parsed.data.requestId ?? fallback.requestId,
    };
  } catch {
    return fallback;
  }
}

/** Draws a nonce that this session has never used. */
function freshNonce(session: ActiveSession): Uint8Array {
  for (;;) {
    const nonce = randomBytes(NONCE_BYTES);
    const hex = toHex(nonce);
    if (!session.nonces.has(hex)) {
      session.nonces.add(hex);
      return nonce;
    }
  }
}

function checkSubmission(update: UpdateSubmission): void {
  if (update === null || typeof update !== "object") {
    throw new TypeError(
      "update: expected { federationId, roundId, baseModelVersion, numSamples, weights }",
    );
  }
  if (!Number.isSafeInteger(update.numSamples) || update.numSamples < 1) {
    throw new RangeError(
      `update.numSamples: expected an integer >= 1, got ${String(update.numSamples)}`,
    );
  }
  if (!Number.isSafeInteger(update.baseModelVersion) || update.baseModelVersion < 0) {
    throw new RangeError(
      `update.baseModelVersion: expected an integer >= 0, got ${String(update.baseModelVersion)}`,
    );
  }
  if (!Array.isArray(update.weights) || update.weights.length === 0) {
    throw new TypeError("update.weights: expected a non-empty array of named tensors");
  }
}

function tokenIdOf(token: string): string {
  const dot = typeof token === "string" ? token.indexOf(".") : -1;
  if (dot <= 0 || dot === token.length - 1) {
    throw new RangeError(
      "token: expected the enrollment token as issued, <tokenId>.<secret>; ask an operator for one",
    );
  }
  return token.slice(0, dot);
}

function normaliseServerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RangeError(
      `serverUrl: expected an http or https URL such as http://127.0.0.1:3000, got ${JSON.stringify(value)}`,
    );
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash) {
    throw new RangeError(
      `serverUrl: expected an http or https URL without query or fragment, got ${JSON.stringify(value)}`,
    );
  }
  return url.toString().replace(/\/+$/, "");
}

function checkFingerprint(value: string | undefined, argument: string): string | undefined {
  if (value === undefined) return undefined;
  const normalised = typeof value === "string" ? value.toLowerCase() : value;
  if (typeof normalised !== "string" || !HEX_FINGERPRINT.test(normalised)) {
    throw new RangeError(
      `${argument}: expected 64 hex digits (SHA-256 of the public key), got ${JSON.stringify(value)}`,
    );
  }
  return normalised;
}

function checkPin(fingerprint: string, pinned: string | undefined, kind: string): void {
  if (pinned !== undefined && fingerprint !== pinned) {
    throw new VerificationError(
      "server_key",
      "pin_mismatch",
      `the server's ${kind} key has fingerprint ${fingerprint}, but ${pinned} is pinned`,
    );
  }
}

function encodePathSegment(value: string, argument: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 128) {
    throw new RangeError(`${argument}: expected 1 to 128 characters, got ${JSON.stringify(value)}`);
  }
  return encodeURIComponent(value);
}
