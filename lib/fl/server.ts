/**
 * The in-process API, under the earlier system's names: `QSFLServer` (alias `QSFLSystem`) with
 * registerClient, startTrainingRound, receiveClientUpdate, aggregateUpdates,
 * distributeGlobalModel, getSecuritySummary, getClientReputation, getClientInfluence,
 * isClientQuarantined and signMessage.
 *
 * It runs the same code as the REST routes and the workers: updates go through the envelope
 * intake (so they must be sealed and signed), and aggregateUpdates is the workers' closeRound.
 * registerClient generates client keys on the server and is only allowed when
 * security.allowServerGeneratedKeys is true (local demos and tests).
 */

import { AuthenticationService, type SimulatedClientKeys } from "../auth/credentials";
import { ClientRejection } from "../auth/rejection";
import { getServerKeys, parseMasterKey, type ServerKeys } from "../auth/server-keys";
import type { AppConfig } from "../config";
import type { PrismaClient } from "../generated/prisma/client";
import { recordRejection } from "../http/client-api";
import { getSecuritySummary } from "../monitoring/summary";
import {
  AUTH_CONTEXT,
  createHandshake,
  DilithiumSigner,
  encodeSignedModel,
  fromHex,
  type SignedModel,
  sealUpdate,
} from "../pq";
import type { TensorSpec, Weights } from "../tensors";
import { createFederation, startFederation } from "./federation";
import { type IntakeContext, openSession, receiveUpdateEnvelope } from "./intake";
import { closeRound, decodePayload, type ModelEvaluator } from "./rounds";
import { type FederationSettingsOverrides, resolveFederationSettings } from "./settings";

/** A client's model update, as in the earlier system, plus the sealed envelope that carries it. */
export interface ModelUpdate {
  clientId: string;
  roundId: string;
  weights: Weights;
  /** The ML-DSA-65 signature inside the envelope (its last 3309 bytes). */
  signature: Uint8Array;
  timestamp: Date;
  metadata: Record<string, unknown>;
  /** The signed, encrypted envelope that receiveClientUpdate checks and stores. */
  envelope: Uint8Array;
}

export interface GlobalModel {
  federationId: string;
  version: number;
  weights: Weights;
  manifest: TensorSpec[];
  metadata: { accuracy: number | null; loss: number | null; roundId: string | null };
  signed: SignedModel;
}

export interface QSFLServerOptions {
  prisma: PrismaClient;
  config: AppConfig;
  /** 64 hex characters; defaults to QSFL_MASTER_KEY. */
  masterKeyHex?: string;
  evaluate?: ModelEvaluator;
}

interface ClientSession {
  keys: SimulatedClientKeys;
  sessionId?: Uint8Array;
  sessionKey?: Uint8Array;
}

export class QSFLServer {
  private readonly prisma: PrismaClient;
  private readonly config: AppConfig;
  private readonly evaluate?: ModelEvaluator;
  private readonly clients = new Map<string, ClientSession>();
  private federationId: string | null = null;

  private constructor(
    options: QSFLServerOptions,
    private readonly serverKeys: ServerKeys,
    private readonly masterKey: Uint8Array,
  ) {
    this.prisma = options.prisma;
    this.config = options.config;
    this.evaluate = options.evaluate;
  }

  static async create(options: QSFLServerOptions): Promise<QSFLServer> {
    const masterKey = parseMasterKey(options.masterKeyHex ?? process.env.QSFL_MASTER_KEY);
    const serverKeys = await getServerKeys(options.prisma, masterKey);
    return new QSFLServer(options, serverKeys, masterKey);
  }

  /** Creates the federation that the other calls act on. */
  async createFederation(input: {
    name: string;
    modelSpec: Record<string, unknown>;
    initialWeights: Weights;
    plannedRounds?: number;
    minClients?: number;
    roundTimeoutSeconds?: number;
    settings?: FederationSettingsOverrides;
  }): Promise<string> {
    const federation = await createFederation(this.prisma, this.serverKeys, {
      name: input.name,
      modelSpec: input.modelSpec,
      initialWeights: input.initialWeights,
      settings: resolveFederationSettings(this.config, input.settings),
      plannedRounds: input.plannedRounds ?? 10,
      minClients: input.minClients ?? 2,
      roundTimeoutSeconds: input.roundTimeoutSeconds ?? 300,
    });
    this.federationId = federation.id;
    return federation.id;
  }

  /** Generates keys for a simulated client on the server (security.allowServerGeneratedKeys). */
  async registerClient(clientId: string): Promise<SimulatedClientKeys> {
    const service = new AuthenticationService(this.prisma, this.serverKeys, {
      allowServerGeneratedKeys: this.config.security.allowServerGeneratedKeys,
      credentialLifetimeDays: this.config.security.credentialLifetimeDays,
    });
    const keys = await service.registerClient(clientId, this.federationId);
    this.clients.set(clientId, { keys });
    return keys;
  }

  /** Returns the id of the round now collecting updates, starting the federation if needed. */
  async startTrainingRound(): Promise<string> {
    const federationId = this.requireFederation();
    const open = await this.prisma.round.findFirst({
      where: { federationId, status: { in: ["open", "collecting"] } },
      orderBy: { number: "desc" },
    });
    if (open) return open.id;
    const federation = await this.prisma.federation.findUniqueOrThrow({
      where: { id: federationId },
    });
    if (federation.status === "created")
      return (await startFederation(this.prisma, federationId)).id;
    throw new Error(
      `federation "${federation.name}" is ${federation.status} and has no open round`,
    );
  }

  /**
   * Builds a ModelUpdate for a client registered here: trains nothing, but seals `weights`
   * exactly as a remote client would (session handshake, AES-256-GCM, ML-DSA-65 signature).
   */
  async createModelUpdate(
    clientId: string,
    roundId: string,
    weights: Weights,
    metadata: { numSamples?: number } & Record<string, unknown> = {},
  ): Promise<ModelUpdate> {
    const client = this.clients.get(clientId);
    if (!client) throw new Error(`client "${clientId}" was not registered with this QSFLServer`);
    if (!client.sessionId || !client.sessionKey) {
      const { message, session } = createHandshake({
        clientId,
        serverPublicKey: this.serverKeys.kem.publicKey,
        signingSecretKey: client.keys.signingSecretKey,
      });
      await openSession(this.intakeContext(), message);
      client.sessionId = session.sessionId;
      client.sessionKey = session.sessionKey;
    }
    const round = await this.prisma.round.findUniqueOrThrow({
      where: { id: roundId },
      include: { baseModelVersion: true },
    });
    const timestamp = new Date();
    const envelope = sealUpdate({
      clientId,
      federationId: round.federationId,
      roundId,
      baseModelVersion: round.baseModelVersion?.version ?? 0,
      numSamples: Math.max(1, Math.round(metadata.numSamples ?? 1)),
      weights,
      sessionId: client.sessionId,
      sessionKey: client.sessionKey,
      signingSecretKey: client.keys.signingSecretKey,
      timestampMs: timestamp.getTime(),
    });
    return {
      clientId,
      roundId,
      weights,
      signature: envelope.subarray(envelope.length - 3309),
      timestamp,
      metadata,
      envelope,
    };
  }

  /** Checks and stores an update; returns false (and records a security event) if rejected. */
  async receiveClientUpdate(clientId: string, update: ModelUpdate): Promise<boolean> {
    try {
      if (update.clientId !== clientId) {
        throw new ClientRejection(
          400,
          "client_mismatch",
          `update of "${update.clientId}" submitted as "${clientId}"`,
          {
            type: "authentication",
            severity: "high",
            clientId,
          },
        );
      }
      await receiveUpdateEnvelope(this.intakeContext(), update.envelope);
      return true;
    } catch (error) {
      if (!(error instanceof ClientRejection)) throw error;
      await recordRejection(
        "QSFLServer.receiveClientUpdate",
        `in-process-${Date.now()}`,
        error,
        this.prisma,
      );
      return false;
    }
  }

  /** Closes the round (detection, reputation, aggregation, publication) and returns the new model. */
  async aggregateUpdates(roundId: string): Promise<GlobalModel> {
    const outcome = await closeRound(
      { prisma: this.prisma, serverKeys: this.serverKeys, evaluate: this.evaluate },
      roundId,
      "manual",
    );
    if (outcome.status === "failed") throw new Error(`round ${roundId} failed: ${outcome.detail}`);
    const model = await this.prisma.modelVersion.findUnique({ where: { roundId } });
    if (!model) throw new Error(`round ${roundId} published no model`);
    return this.toGlobalModel(model);
  }

  /** Returns a published global model: `version`, or the newest when omitted. */
  async getGlobalModel(version?: number): Promise<GlobalModel> {
    const federationId = this.requireFederation();
    const model = await this.prisma.modelVersion.findFirst({
      where: { federationId, ...(version === undefined ? {} : { version }) },
      orderBy: { version: "desc" },
    });
    if (!model)
      throw new Error(
        `federation ${federationId} has no model${version === undefined ? "" : ` version ${version}`}`,
      );
    return this.toGlobalModel(model);
  }

  /** Returns the signed model as clients download it (an encoded SignedModel). */
  distributeGlobalModel(model: GlobalModel): Uint8Array {
    return encodeSignedModel(model.signed);
  }

  async getSecuritySummary() {
    return getSecuritySummary(
      this.prisma,
      this.federationId ? { federationId: this.federationId } : {},
    );
  }

  async getClientReputation(clientId: string): Promise<number> {
    return (await this.requireClient(clientId)).reputation;
  }

  async getClientInfluence(clientId: string): Promise<number> {
    const client = await this.requireClient(clientId);
    return client.status === "active" ? client.influenceWeight : 0;
  }

  async isClientQuarantined(clientId: string): Promise<boolean> {
    return (await this.requireClient(clientId)).status === "quarantined";
  }

  /** Signs a message with the server's ML-DSA-65 key under the auth context string. */
  signMessage(message: Uint8Array): Uint8Array {
    return DilithiumSigner.sign(message, this.serverKeys.signing.secretKey, AUTH_CONTEXT);
  }

  get serverPublicKeys(): { signing: Uint8Array; kem: Uint8Array } {
    return { signing: this.serverKeys.signing.publicKey, kem: this.serverKeys.kem.publicKey };
  }

  private async toGlobalModel(model: {
    federationId: string;
    version: number;
    manifest: unknown;
    weights: Uint8Array;
    digest: string;
    signature: Uint8Array;
    metrics: unknown;
    roundId: string | null;
  }): Promise<GlobalModel> {
    const manifest = model.manifest as TensorSpec[];
    const metrics = (model.metrics ?? {}) as {
      testAccuracy?: number | null;
      testLoss?: number | null;
    };
    const payload = new Uint8Array(model.weights);
    return {
      federationId: model.federationId,
      version: model.version,
      manifest,
      weights: decodePayload(payload, manifest),
      metadata: {
        accuracy: metrics.testAccuracy ?? null,
        loss: metrics.testLoss ?? null,
        roundId: model.roundId,
      },
      signed: {
        statement: {
          federationId: model.federationId,
          version: model.version,
          manifest,
          weightsDigest: fromHex(model.digest),
        },
        payload,
        signature: new Uint8Array(model.signature),
      },
    };
  }

  private intakeContext(): IntakeContext {
    return {
      prisma: this.prisma,
      serverKeys: this.serverKeys,
      masterKey: this.masterKey,
      limits: {
        maxUpdateBytes: this.config.security.maxUpdateBytes,
        timestampSkewMs: this.config.security.timestampSkewSeconds * 1000,
        sessionLifetimeMs: this.config.security.sessionLifetimeSeconds * 1000,
        sessionMaxUpdates: this.config.security.sessionMaxUpdates,
      },
    };
  }

  private requireFederation(): string {
    if (!this.federationId) throw new Error("no federation yet: call createFederation first");
    return this.federationId;
  }

  private async requireClient(clientId: string) {
    const client = await this.prisma.client.findUnique({ where: { id: clientId } });
    if (!client) throw new Error(`client "${clientId}" not found`);
    return client;
  }
}

export { QSFLServer as QSFLSystem };
