import { environmentSettings } from "@/lib/config";
import { getPrisma } from "@/lib/db";
import {
  isAuthorizedScrape,
  logRejectedScrape,
  renderPrometheusMetrics,
} from "@/lib/monitoring/prometheus";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Prometheus scrape endpoint, behind `Authorization: Bearer <QSFL_METRICS_TOKEN>`. */
export async function GET(request: Request): Promise<Response> {
  const token = environmentSettings().metricsToken;
  if (!token) {
    return Response.json(
      {
        error: "metrics_disabled",
        message:
          "no metrics token is configured: set QSFL_METRICS_TOKEN in the server's environment " +
          "(npm start sets it from <home>/secrets.json) and send it as Authorization: Bearer <token>",
      },
      { status: 503, headers: { "cache-control": "no-store" } },
    );
  }

  if (!isAuthorizedScrape(request.headers.get("authorization"), token)) {
    logRejectedScrape();
    return Response.json(
      {
        error: "unauthorized",
        message: "missing or invalid bearer token: send Authorization: Bearer <QSFL_METRICS_TOKEN>",
      },
      {
        status: 401,
        headers: { "cache-control": "no-store", "www-authenticate": 'Bearer realm="metrics"' },
      },
    );
  }

  const exposition = await renderPrometheusMetrics(getPrisma());
  return new Response(exposition.body, {
    status: 200,
    headers: { "content-type": exposition.contentType, "cache-control": "no-store" },
  });
}
