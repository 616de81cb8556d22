import { getPrisma } from "@/lib/db";
import { enqueueThrottled, QUEUES } from "@/lib/jobs";
import { logger } from "@/lib/logger";
import { checkHealth } from "@/lib/system/heartbeat";
import { getWebBoss } from "@/lib/web/boss";

export const dynamic = "force-dynamic";

// At most one ping job per this many seconds, however often health is polled.
const PING_THROTTLE_SECONDS = 5;

/** Reports database and worker status; 200 when both are healthy, 503 otherwise. */
export async function GET(): Promise<Response> {
  const report = await checkHealth(getPrisma());
  if (report.database.ok) {
    try {
      const boss = await getWebBoss();
      await enqueueThrottled(
        boss,
        QUEUES.ping,
        { sentAt: new Date().toISOString(), origin: "web" },
        PING_THROTTLE_SECONDS,
      );
    } catch (error) {
      logger.warn({ err: error }, "health check could not enqueue a ping job");
    }
  }
  return Response.json(report, {
    status: report.status === "ok" ? 200 : 503,
    headers: { "cache-control": "no-store" },
  });
}
