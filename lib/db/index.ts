/**
 * The process's one Prisma client, over node-postgres through @prisma/adapter-pg. Pages, route
 * handlers, workers and scripts import `getPrisma()` from here and never build their own.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client";

const globalForPrisma = globalThis as unknown as { qsflPrisma?: PrismaClient };

export function getDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      "DATABASE_URL is not set: start the app with `npm start`, which sets it (embedded database) " +
        "or set it to a postgresql:// URL",
    );
  }
  return url;
}

export function createPrismaClient(url = getDatabaseUrl()): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 10 }) });
}

/** Returns the shared client, created on first use from DATABASE_URL. */
export function getPrisma(): PrismaClient {
  globalForPrisma.qsflPrisma ??= createPrismaClient();
  return globalForPrisma.qsflPrisma;
}

export type { PrismaClient };
