/**
 * Decides which PostgreSQL a process uses: DATABASE_URL (or database.url in the config) when set,
 * otherwise the embedded server in the config's home folder, started if it is not running.
 */
import type { AppConfig } from "../config";
import { homeDir } from "../config";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "./embedded";

export interface ResolvedDatabase {
  url: string;
  embedded?: EmbeddedDatabase;
}

export async function resolveDatabase(config: AppConfig): Promise<ResolvedDatabase> {
  if (config.database.url) return { url: config.database.url };
  const embedded = await startEmbeddedPostgres(homeDir(config), config.database.embeddedPort);
  return { url: embedded.url, embedded };
}
