import { openSession } from "@/lib/fl/intake";
import { readBodyWithLimit, requireContentType } from "@/lib/http/body";
import { getIntakeContext, handleClientRequest } from "@/lib/http/client-api";

export const dynamic = "force-dynamic";

const MAX_HANDSHAKE_BYTES = 16 * 1024;

/** Opens a post-quantum session from a signed X-Wing handshake (application/octet-stream). */
export async function POST(request: Request): Promise<Response> {
  return handleClientRequest("POST /api/v1/sessions", request, async () => {
    requireContentType(request, "application/octet-stream");
    const body = await readBodyWithLimit(request, MAX_HANDSHAKE_BYTES);
    const session = await openSession(await getIntakeContext(), body);
    return Response.json(
      {
        sessionId: session.sessionId,
        expiresAt: session.expiresAt.toISOString(),
        maxUpdates: session.maxUpdates,
      },
      { status: 201 },
    );
  });
}
