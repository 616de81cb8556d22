import { openApiDocument } from "@/lib/http/openapi";

export const dynamic = "force-static";

/** Returns the OpenAPI 3.1 description of the client API. */
export function GET(): Response {
  return Response.json(openApiDocument);
}
