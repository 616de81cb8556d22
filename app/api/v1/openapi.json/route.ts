import { openApiDocument } from "@/lib/http/openapi";

export const dynamic = "force-static";

/** The OpenAPI 3.1 description of the client API. */
export function GET(): Response {
  return Response.json(openApiDocument);
}
