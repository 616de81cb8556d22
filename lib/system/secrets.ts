/**
 * Secrets that the embedded default generates on first start and keeps in <home>/secrets.json
 * (mode 0600): the next-auth signing secret, the master key that encrypts the server's private
 * keys at rest, and the Prometheus scrape token. Environment variables take precedence.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface LocalSecrets {
  nextAuthSecret: string;
  /** 32 bytes, hex. */
  masterKey: string;
  metricsToken: string;
}

export function loadOrCreateSecrets(
  home: string,
  env: Record<string, string | undefined> = process.env,
): LocalSecrets {
  const file = path.join(home, "secrets.json");
  let stored: Partial<LocalSecrets> = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, "utf8")) as Partial<LocalSecrets>;
  const generated: LocalSecrets = {
    nextAuthSecret: stored.nextAuthSecret ?? randomBytes(32).toString("base64url"),
    masterKey: stored.masterKey ?? randomBytes(32).toString("hex"),
    metricsToken: stored.metricsToken ?? randomBytes(24).toString("base64url"),
  };
  if (
    stored.nextAuthSecret !== generated.nextAuthSecret ||
    stored.masterKey !== generated.masterKey ||
    stored.metricsToken !== generated.metricsToken
  ) {
    mkdirSync(home, { recursive: true });
    writeFileSync(file, JSON.stringify(generated, null, 2), { mode: 0o600 });
  }
  return {
    nextAuthSecret: env.NEXTAUTH_SECRET || generated.nextAuthSecret,
    masterKey: env.QSFL_MASTER_KEY || generated.masterKey,
    metricsToken: env.QSFL_METRICS_TOKEN || generated.metricsToken,
  };
}
