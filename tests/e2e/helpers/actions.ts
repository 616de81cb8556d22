/**
 * Captures the server action requests a page sends (POST with a Next-Action header) so that a
 * test can send the same action again from another session, with one id swapped for another.
 * This is how the tests call a server action directly as a viewer, who never gets the button.
 */
import type { Page } from "playwright-core";

export interface CapturedAction {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Starts recording server action requests of `page`; the returned array fills as they happen. */
export function recordServerActions(page: Page): CapturedAction[] {
  const captured: CapturedAction[] = [];
  page.on("request", (request) => {
    const headers = request.headers();
    if (request.method() !== "POST" || !headers["next-action"]) return;
    captured.push({ url: request.url(), headers, body: request.postData() ?? "" });
  });
  return captured;
}

/**
 * Sends a captured action again from `page` (so with that page's cookies and origin), replacing
 * every occurrence of `from` in the body with `to`. Returns the status and the RSC response text,
 * which contains the action's result as JSON.
 */
export async function replayServerAction(
  page: Page,
  action: CapturedAction,
  from: string,
  to: string,
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  for (const name of ["next-action", "content-type", "accept", "next-router-state-tree"]) {
    if (action.headers[name]) headers[name] = action.headers[name];
  }
  return page.evaluate(
    async ({ url, headers, body }) => {
      const response = await fetch(url, { method: "POST", headers, body });
      return { status: response.status, text: await response.text() };
    },
    { url: action.url, headers, body: action.body.split(from).join(to) },
  );
}
