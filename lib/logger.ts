/**
 * The process's one pino logger, writing structured JSON to stdout. Secrets are never passed to
 * it, and the redact list below is a second line of defence for field names that usually hold them.
 */
import pino from "pino";

export const logger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { pid: process.pid, service: process.env.QSFL_SERVICE ?? "qsfl" },
  redact: {
    paths: ["password", "*.password", "secretKey", "*.secretKey", "token", "*.token", "sessionKey"],
    censor: "[redacted]",
  },
});

export type Logger = typeof logger;
