import { ClientRejection } from "@/lib/auth/rejection";
import { getPrisma } from "@/lib/db";
import { handleClientRequest } from "@/lib/http/client-api";
import { encodeSignedModel, fromHex } from "@/lib/pq";
import type { TensorSpec } from "@/lib/tensors";

export const dynamic = "force-dynamic";

type RouteContext = { params: Promise<{ federationId: string }> };

/** Returns the newest (or the requested) signed global model of a federation, as an encoded SignedModel. */
export async function GET(request: Request, context: RouteContext): Promise<Response> {
  return handleClientRequest("GET /api/v1/federations/:id/model", request, async () => {
    const { federationId } = await context.params;
    const url = new URL(request.url);
    const versionParam = url.searchParams.get("version");
    const version = versionParam === null ? undefined : Number(versionParam);
    if (
      versionParam !== null &&
      (!/^\d{1,10}$/.test(versionParam) || version === undefined || version > 2_147_483_647)
    ) {
      throw new ClientRejection(
        400,
        "malformed",
        `invalid version "${versionParam.slice(0, 20)}": expected an integer from 0 to 2147483647`,
      );
    }
    const model = await getPrisma().modelVersion.findFirst({
      where: { federationId, ...(version === undefined ? {} : { version }) },
      orderBy: { version: "desc" },
    });
    if (!model) {
      throw new ClientRejection(
        404,
        "not_found",
        `federation ${federationId} has no model${version === undefined ? "" : ` version ${version}`}`,
        {
          type: "system",
          severity: "low",
        },
      );
    }
    const bytes = encodeSignedModel({
      statement: {
        federationId,
        version: model.version,
        manifest: model.manifest as unknown as TensorSpec[],
        weightsDigest: fromHex(model.digest),
      },
      payload: new Uint8Array(model.weights),
      signature: new Uint8Array(model.signature),
    });
    return new Response(Buffer.from(bytes), {
      headers: {
        "content-type": "application/octet-stream",
        "x-model-version": String(model.version),
      },
    });
  });
}
