/**
 * Server-side session checks for pages, route handlers and server actions. Roles are checked here,
 * on the server, whatever the page shows.
 */
import { getServerSession } from "next-auth";
import { buildAuthOptions } from "./next-auth-options";

export type Role = "admin" | "operator" | "viewer";

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export interface OperatorSession {
  id: string;
  email: string;
  role: Role;
  name: string | null;
}

export class AuthorizationError extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
    this.name = "AuthorizationError";
  }
}

export async function getOperatorSession(): Promise<OperatorSession | null> {
  const session = await getServerSession(buildAuthOptions());
  const user = session?.user;
  if (!user?.id || !user.email) return null;
  const role = (["admin", "operator", "viewer"] as const).find((r) => r === user.role) ?? "viewer";
  return { id: user.id, email: user.email, role, name: user.name ?? null };
}

/** Returns the session, or throws AuthorizationError (401 signed out, 403 role too low). */
export async function requireRole(minimum: Role): Promise<OperatorSession> {
  const session = await getOperatorSession();
  if (!session) throw new AuthorizationError(401, "sign-in required");
  if (RANK[session.role] < RANK[minimum]) {
    throw new AuthorizationError(
      403,
      `this action needs the ${minimum} role; you are ${session.role}`,
    );
  }
  return session;
}
