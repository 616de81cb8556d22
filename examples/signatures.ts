/**
 * Digital signatures: a client signs the description of a model update with ML-DSA-65 (FIPS 204,
 * `DilithiumSigner`) under the update context string, and the server verifies it.
 *
 * Success: the genuine signature verifies, while a message with a changed client id, the same
 * message under another context string (the model context), and a signature checked against
 * another client's public key all fail. Context strings are what keep a signature over an update
 * from being replayed as a signature over a model, a credential or a handshake.
 */
import { DilithiumSigner, MODEL_CONTEXT, toHex, UPDATE_CONTEXT } from "@/lib/pq";
import { heading, isEntryPoint, runExample, SuccessChecks } from "./support";

/** Encodes `fields` as JSON with sorted keys, so that signer and verifier see the same bytes. */
function canonicalMessage(fields: Record<string, string>): Uint8Array {
  const sorted = Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1)));
  return new TextEncoder().encode(JSON.stringify(sorted));
}

export async function main(): Promise<number> {
  const checks = new SuccessChecks();

  heading("ML-DSA-65 keypair");
  const client = DilithiumSigner.generateKeypair();
  console.log(
    `Public key ${client.publicKey.length} bytes, secret key ${client.secretKey.length} bytes.`,
  );

  heading("Sign a model update");
  const fields = {
    clientId: "client_001",
    roundId: "round_5",
    weightsDigest: "9f2c1b7e4d0a6c3f",
    timestamp: "2024-01-15T10:30:00Z",
  };
  const message = canonicalMessage(fields);
  console.log(`Message: ${new TextDecoder().decode(message)}`);
  console.log(`Context string: ${UPDATE_CONTEXT}`);
  const signature = DilithiumSigner.sign(message, client.secretKey, UPDATE_CONTEXT);
  console.log(
    `Signature: ${signature.length} bytes, starting ${toHex(signature.subarray(0, 12))}...`,
  );

  heading("Verify");
  const valid = DilithiumSigner.verify(message, signature, client.publicKey, UPDATE_CONTEXT);
  console.log(`Genuine message under ${UPDATE_CONTEXT}: ${valid ? "valid" : "invalid"}`);
  checks.check(valid, "genuine signature verifies");

  const tampered = canonicalMessage({ ...fields, clientId: "client_002" });
  const tamperedValid = DilithiumSigner.verify(
    tampered,
    signature,
    client.publicKey,
    UPDATE_CONTEXT,
  );
  console.log(`Message with clientId client_002: ${tamperedValid ? "valid" : "invalid"}`);
  checks.check(!tamperedValid, "tampered message does not verify");

  const otherContext = DilithiumSigner.verify(message, signature, client.publicKey, MODEL_CONTEXT);
  console.log(`Same message under ${MODEL_CONTEXT}: ${otherContext ? "valid" : "invalid"}`);
  checks.check(!otherContext, "signature does not verify under another context string");

  const stranger = DilithiumSigner.generateKeypair();
  const wrongKey = DilithiumSigner.verify(message, signature, stranger.publicKey, UPDATE_CONTEXT);
  console.log(`Checked against another client's public key: ${wrongKey ? "valid" : "invalid"}`);
  checks.check(!wrongKey, "signature does not verify under another public key");

  return checks.finish();
}

if (isEntryPoint(import.meta.url)) void runExample(main);
