/**
 * The session check of every dashboard page. Pages render in parallel with the layout, so each
 * page checks for itself and sends a signed-out visitor to /login. Pages that need a higher role
 * test `can` and show the NeedsRole panel instead of their content.
 */
import { redirect } from "next/navigation";
import { getOperatorSession } from "@/lib/auth/session";
import { permittedActions } from "@/lib/dashboard/permissions";

export async function requirePageSession() {
  const session = await getOperatorSession();
  if (!session) redirect("/login");
  return { session, can: permittedActions(session.role) };
}
