/**
 * A federated client that speaks the REST protocol to the running app, as a deployed client
 * would: it enrolls with a one-time token and its own ML-DSA-65 keys, opens an X-Wing session,
 * downloads the current global model and posts signed, encrypted updates. The weights it sends
 * are synthetic: honest clients move every parameter along one shared direction with a little
 * noise, and an attacker moves ten times as far the other way.
 */
import { decodePayload } from "@/lib/fl/rounds";
import {
  createHandshake,
  DilithiumSigner,
  decodeSignedModel,
  sealUpdate,
  signEnrollmentProof,
} from "@/lib/pq";
import { createRandom } from "@/lib/random";
import type { Weights } from "@/lib/tensors";

export interface SubmitResult {
  status: number;
  body: { error?: string; message?: string; updateId?: string; roundId?: string };
}

export interface RoundInfo {
  roundId: string;
  number: number;
  status: string;
  baseModelVersion: number;
}

export class RestClient {
  private readonly signing = DilithiumSigner.generateKeypair();
  private session: { sessionId: Uint8Array; sessionKey: Uint8Array } | null = null;

  constructor(
    readonly baseUrl: string,
    readonly clientId: string,
    readonly federationId: string,
  ) {}

  async enroll(token: string): Promise<void> {
    const tokenId = token.split(".")[0];
    const proof = {
      tokenId,
      clientId: this.clientId,
      signingPublicKey: this.signing.publicKey,
      kemPublicKey: null,
    };
    const response = await fetch(`${this.baseUrl}/api/v1/enroll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        token,
        clientId: this.clientId,
        signingPublicKey: Buffer.from(this.signing.publicKey).toString("base64"),
        kemPublicKey: null,
        proofSignature: Buffer.from(signEnrollmentProof(proof, this.signing.secretKey)).toString(
          "base64",
        ),
      }),
    });
    if (response.status !== 201) {
      throw new Error(
        `enrollment of ${this.clientId} failed: ${response.status} ${await response.text()}`,
      );
    }
  }

  async openSession(): Promise<void> {
    const keys = await fetch(`${this.baseUrl}/api/v1/server-keys`);
    const body = (await keys.json()) as { kem: { publicKey: string } };
    const { message, session } = createHandshake({
      clientId: this.clientId,
      serverPublicKey: new Uint8Array(Buffer.from(body.kem.publicKey, "base64")),
      signingSecretKey: this.signing.secretKey,
    });
    const response = await fetch(`${this.baseUrl}/api/v1/sessions`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from(message),
    });
    if (response.status !== 201) {
      throw new Error(
        `session of ${this.clientId} failed: ${response.status} ${await response.text()}`,
      );
    }
    this.session = session;
  }

  async currentRound(): Promise<RoundInfo | null> {
    const response = await fetch(`${this.baseUrl}/api/v1/federations/${this.federationId}/round`);
    const body = (await response.json()) as { round: RoundInfo | null };
    return body.round;
  }

  async globalModel(version: number): Promise<Weights> {
    const response = await fetch(
      `${this.baseUrl}/api/v1/federations/${this.federationId}/model?version=${version}`,
    );
    if (response.status !== 200) {
      throw new Error(`model download failed: ${response.status} ${await response.text()}`);
    }
    const signed = decodeSignedModel(new Uint8Array(await response.arrayBuffer()));
    return decodePayload(signed.payload, signed.statement.manifest);
  }

  async submit(round: RoundInfo, weights: Weights): Promise<SubmitResult> {
    if (!this.session) throw new Error(`${this.clientId} has no session: call openSession first`);
    const envelope = sealUpdate({
      clientId: this.clientId,
      federationId: this.federationId,
      roundId: round.roundId,
      baseModelVersion: round.baseModelVersion,
      numSamples: 100,
      weights,
      sessionId: this.session.sessionId,
      sessionKey: this.session.sessionKey,
      signingSecretKey: this.signing.secretKey,
    });
    const response = await fetch(`${this.baseUrl}/api/v1/updates`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from(envelope),
    });
    return { status: response.status, body: (await response.json()) as SubmitResult["body"] };
  }
}

/** Builds synthetic trained weights: global + step for honest clients, global - 10 step for attackers. */
export function syntheticUpdate(
  global: Weights,
  direction: Float32Array,
  seed: number,
  attacker: boolean,
): Weights {
  const random = createRandom(seed);
  let offset = 0;
  return global.map((tensor) => {
    const data = new Float32Array(tensor.data.length);
    for (let k = 0; k < data.length; k++) {
      const step = direction[offset + k] + random.gaussian() * 0.002;
      data[k] = tensor.data[k] + (attacker ? -10 * step : step);
    }
    offset += tensor.data.length;
    return { ...tensor, data };
  });
}

/** Returns a fixed random direction with one entry per parameter of `global`. */
export function sharedDirection(global: Weights, seed: number): Float32Array {
  const random = createRandom(seed);
  const size = global.reduce((sum, t) => sum + t.data.length, 0);
  return Float32Array.from({ length: size }, () => random.gaussian() * 0.01);
}
