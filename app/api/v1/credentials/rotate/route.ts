import { CredentialManager } from "@/lib/auth/credentials";
import { ClientRejection } from "@/lib/auth/rejection";
import { getConfig } from "@/lib/config";
import { readBodyWithLimit, requireContentType } from "@/lib/http/body";
import { fromBase64, getIntakeContext, handleClientRequest, toBase64 } from "@/lib/http/client-api";
import { encodeCredential } from "@/lib/pq";
import { rotateRequestSchema } from "@/lib/validations/client-api";

export const dynamic = "force-dynamic";

/** Replaces a client's keys with new ones, authorised by a signature of the current key. */
export async function POST(request: Request): Promise<Response> {
  return handleClientRequest("POST /api/v1/credentials/rotate", request, async () => {
    requireContentType(request, "application/json");
    const body = await readBodyWithLimit(request, 64 * 1024);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new ClientRejection(400, "malformed", "the body is not valid JSON");
    }
    const parsed = rotateRequestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ClientRejection(
        400,
        "malformed",
        `invalid field "${issue.path.join(".")}": ${issue.message}`,
      );
    }
    const ctx = await getIntakeContext();
    const config = getConfig();
    const issued = await new CredentialManager(ctx.prisma).rotateKeys(ctx.serverKeys, {
      clientId: parsed.data.clientId,
      rotation: fromBase64(parsed.data.rotation, "rotation", parsed.data.clientId),
      signature: fromBase64(parsed.data.signature, "signature", parsed.data.clientId),
      skewMs: config.security.timestampSkewSeconds * 1000,
      lifetimeDays: config.security.credentialLifetimeDays,
    });
    return Response.json(
      {
        clientId: issued.credential.clientId,
        serial: issued.credential.serial.toString(),
        expiresAt: new Date(issued.credential.expiresAtMs).toISOString(),
        credential: toBase64(encodeCredential(issued.credential)),
        serverSignature: toBase64(issued.serverSignature),
      },
      { status: 201 },
    );
  });
}
