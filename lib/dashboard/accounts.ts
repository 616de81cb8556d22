/** Operator accounts as the admin page lists them; password hashes never leave this module. */
import type { OperatorRole, PrismaClient } from "../generated/prisma/client";
import { iso, isoRequired } from "./time";

export interface AccountRow {
  id: string;
  email: string;
  name: string | null;
  role: OperatorRole;
  disabled: boolean;
  lastLoginAt: string | null;
  createdAt: string;
}

/** Returns every operator account, by email. */
export async function listOperatorAccounts(prisma: PrismaClient): Promise<AccountRow[]> {
  const users = await prisma.user.findMany({
    orderBy: { email: "asc" },
    select: {
      id: true,
      email: true,
      name: true,
      role: true,
      disabled: true,
      lastLoginAt: true,
      createdAt: true,
    },
  });
  return users.map((user) => ({
    ...user,
    lastLoginAt: iso(user.lastLoginAt),
    createdAt: isoRequired(user.createdAt),
  }));
}
