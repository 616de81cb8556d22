/**
 * Ordered, bounded shutdown on SIGINT and SIGTERM: each registered step runs once, newest first,
 * and the process exits 0 when all finished, or 1 if one failed or the deadline passed.
 */
import { logger } from "../logger";

type Step = { name: string; run: () => Promise<void> };

const steps: Step[] = [];
let shuttingDown = false;

export function onShutdown(name: string, run: () => Promise<void>): void {
  steps.push({ name, run });
}

export function isShuttingDown(): boolean {
  return shuttingDown;
}

export function installSignalHandlers(deadlineMs = 9_000): void {
  const handler = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ deadlineMs }, "shutdown did not finish in time; exiting");
      process.exit(1);
    }, deadlineMs);
    timer.unref();
    void runSteps().then((ok) => process.exit(ok ? 0 : 1));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

async function runSteps(): Promise<boolean> {
  let ok = true;
  for (const step of [...steps].reverse()) {
    try {
      await step.run();
    } catch (error) {
      ok = false;
      logger.error({ err: error, step: step.name }, "shutdown step failed");
    }
  }
  return ok;
}
