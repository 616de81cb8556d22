/**
 * The demo federation started from the dashboard of a running app: the button creates the
 * federation and starts its eight client processes on the server, and the first round is
 * published with the malicious clients' updates rejected.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/processes";
import { ADMIN_EMAIL, ADMIN_PASSWORD, type RunningApp, startApp } from "./helpers/app";
import { launchBrowser, openPage, screenshot, signIn } from "./helpers/browser";

let app: RunningApp;
let browser: Browser;

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  // Stopping the federation makes its detached client processes exit on their next poll.
  const running = await app?.prisma.federation.findMany({ where: { status: "running" } });
  const { stopFederation } = await import("@/lib/fl/federation");
  for (const federation of running ?? [])
    await stopFederation(app.prisma, federation.id, "test finished");
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await app?.stop();
});

describe("demo from the dashboard", () => {
  it("runs the demo federation's first round", async () => {
    const admin = await openPage(browser, app.url);
    await signIn(admin.page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await admin.page.goto("/federations");
    await admin.page.getByRole("button", { name: "Run the demo federation" }).click();
    await admin.page.getByRole("button", { name: "Run the demo", exact: true }).click();
    await admin.page
      .getByRole("link", { name: "Open the demo federation" })
      .waitFor({ timeout: 60_000 });

    const federation = await app.prisma.federation.findFirstOrThrow({
      where: { name: { startsWith: "demo " } },
    });
    expect(federation.status).toBe("running");
    expect(await app.prisma.enrollmentToken.count({ where: { federationId: federation.id } })).toBe(
      8,
    );

    const round = await waitFor(
      "round 1 of the demo to publish",
      async () =>
        (await app.prisma.round.findFirst({
          where: { federationId: federation.id, number: 1, status: "published" },
        })) ?? undefined,
      180_000,
      1000,
    );
    const updates = await app.prisma.modelUpdate.findMany({ where: { roundId: round.id } });
    expect(updates.length).toBe(8);
    const rejected = updates
      .filter((u) => u.status !== "accepted")
      .map((u) => u.clientId)
      .sort();
    expect(rejected).toEqual(["malicious-1", "malicious-2"]);
    expect(round.testAccuracy).toBeGreaterThan(0.7);

    const event = await app.prisma.securityEvent.findFirst({
      where: { type: "operator_action", description: { contains: "run demo federation" } },
    });
    expect(event?.operatorId).toBeTruthy();

    await admin.page.goto(`/federations/${federation.id}`);
    await admin.page
      .getByText(/round 1/i)
      .first()
      .waitFor();
    await screenshot(admin.page, "demo-federation");
    expect(admin.errors).toEqual([]);
  });
});
