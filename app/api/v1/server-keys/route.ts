import { getIntakeContext, handleClientRequest, toBase64 } from "@/lib/http/client-api";

export const dynamic = "force-dynamic";

/** Returns the server's public keys and fingerprints, for clients to pin. */
export async function GET(request: Request): Promise<Response> {
  return handleClientRequest("GET /api/v1/server-keys", request, async () => {
    const { serverKeys } = await getIntakeContext();
    return Response.json({
      signing: {
        algorithm: "ML-DSA-65",
        publicKey: toBase64(serverKeys.signing.publicKey),
        fingerprint: serverKeys.signing.fingerprint,
      },
      kem: {
        algorithm: "X-Wing (ML-KEM-768 + X25519)",
        publicKey: toBase64(serverKeys.kem.publicKey),
        fingerprint: serverKeys.kem.fingerprint,
      },
    });
  });
}
