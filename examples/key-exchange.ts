/**
 * Key exchange: a client encapsulates a shared secret to the server's public key and the server
 * decapsulates it, first with ML-KEM-768 (FIPS 203, `KyberKeyExchange`), then with X-Wing
 * (ML-KEM-768 + X25519), which the client protocol uses for its sessions.
 *
 * Success: both parties hold the same 32-byte shared secret under each KEM, and a ciphertext
 * with one flipped bit decapsulates to an unrelated secret. FIPS 203 implicit rejection returns a
 * pseudorandom value instead of an error, so the mismatch only shows when the derived key is used.
 */
import { equalBytes, KyberKeyExchange, toHex, XWingKem } from "@/lib/pq";
import { heading, isEntryPoint, runExample, SuccessChecks } from "./support";

interface Kem {
  generateKeypair(): { publicKey: Uint8Array; secretKey: Uint8Array };
  encapsulate(publicKey: Uint8Array): { ciphertext: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

function exchange(label: string, kem: Kem, checks: SuccessChecks): void {
  heading(`${label} key exchange`);
  const server = kem.generateKeypair();
  console.log(`Server generated a keypair: public key ${server.publicKey.length} bytes.`);

  const { ciphertext, sharedSecret: clientSecret } = kem.encapsulate(server.publicKey);
  console.log(`Client encapsulated a shared secret: ciphertext ${ciphertext.length} bytes.`);
  console.log(`Client shared secret: ${toHex(clientSecret.subarray(0, 16))}...`);

  const serverSecret = kem.decapsulate(ciphertext, server.secretKey);
  console.log(`Server decapsulated:  ${toHex(serverSecret.subarray(0, 16))}...`);
  checks.check(
    clientSecret.length === 32 && equalBytes(clientSecret, serverSecret),
    `${label} shared secrets match (32 bytes)`,
  );

  const tampered = ciphertext.slice();
  tampered[0] ^= 0x01;
  const rejected = kem.decapsulate(tampered, server.secretKey);
  console.log(`Tampered ciphertext:  ${toHex(rejected.subarray(0, 16))}...`);
  checks.check(
    !equalBytes(rejected, clientSecret),
    `${label} tampered ciphertext yields a different secret`,
  );
}

export async function main(): Promise<number> {
  const checks = new SuccessChecks();
  exchange("ML-KEM-768", KyberKeyExchange, checks);
  exchange("X-Wing", XWingKem, checks);
  return checks.finish();
}

if (isEntryPoint(import.meta.url)) void runExample(main);
