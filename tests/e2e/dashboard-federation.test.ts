/**
 * A federation run watched and steered from the dashboard. An operator creates the federation
 * with the form, issues an enrollment token and starts it. REST clients (four honest, one
 * attacker) enroll and submit signed updates, the app's worker closes each round at quorum, and
 * the pages show rounds, charts and updates without a reload. Then the attacker's SHAP chart is
 * checked against its score, and a revoked client's next submission is rejected. A viewer cannot
 * revoke, in the page or by calling the server action directly.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueEnrollmentToken } from "@/lib/auth/enrollment";
import { createOperator } from "@/lib/auth/operators";
import { recordServerActions, replayServerAction } from "./helpers/actions";
import { ADMIN_EMAIL, ADMIN_PASSWORD, type RunningApp, startApp } from "./helpers/app";
import {
  cookieHeader,
  horizontalOverflow,
  launchBrowser,
  openPage,
  PHONE,
  screenshot,
  signIn,
  type TrackedPage,
} from "./helpers/browser";
import {
  RestClient,
  type RoundInfo,
  sharedDirection,
  syntheticUpdate,
} from "./helpers/rest-client";

const OPERATOR = { email: "operator@e2e.test", password: "operator-password-1" };
const VIEWER = { email: "viewer@e2e.test", password: "viewer-password-12" };
const HONEST = ["honest-0", "honest-1", "honest-2", "honest-3"];
const ATTACKER = "attacker-0";
const FEDERATION = "e2e-mnist";
/** Rounds after which the attacker must be quarantined: reputation falls below 0.4 by then. */
const MAX_ATTACK_ROUNDS = 3;

let app: RunningApp;
let browser: Browser;
let operator: TrackedPage;
let viewer: TrackedPage;
let federationId = "";
const clients = new Map<string, RestClient>();
let direction: Float32Array | null = null;

beforeAll(async () => {
  app = await startApp();
  await createOperator(app.prisma, { ...OPERATOR, role: "operator" });
  await createOperator(app.prisma, { ...VIEWER, role: "viewer" });
  browser = await launchBrowser();
  operator = await openPage(browser, app.url);
  await signIn(operator.page, OPERATOR.email, OPERATOR.password);
  viewer = await openPage(browser, app.url);
  await signIn(viewer.page, VIEWER.email, VIEWER.password);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function waitForRound(client: RestClient, number: number): Promise<RoundInfo> {
  let round: RoundInfo | null = null;
  await expect
    .poll(
      async () => {
        round = await client.currentRound();
        return round?.number === number && round.status === "open" ? round.number : null;
      },
      { timeout: 60_000, interval: 500 },
    )
    .toBe(number);
  return round as unknown as RoundInfo;
}

/** Submits one update per client (in the given order) to round `number` and checks each is accepted. */
async function submitRound(number: number, ids: string[]): Promise<void> {
  const first = clients.get(ids[0]) as RestClient;
  const round = await waitForRound(first, number);
  const global = await first.globalModel(round.baseModelVersion);
  direction ??= sharedDirection(global, 11);
  for (const [index, id] of ids.entries()) {
    const client = clients.get(id) as RestClient;
    const weights = syntheticUpdate(global, direction, number * 100 + index, id === ATTACKER);
    const result = await client.submit(round, weights);
    expect(result.status, `${id} in round ${number}: ${JSON.stringify(result.body)}`).toBe(202);
  }
}

describe("federation on the dashboard", () => {
  it("creates a federation from the form and issues a token", async () => {
    const { page } = operator;
    await page.goto("/federations/new");
    await page.getByLabel("Name").fill(FEDERATION);
    await page.getByRole("radio", { name: /^mlp/ }).check();
    await page.getByLabel("Planned rounds").fill("4");
    await page.getByLabel("Clients per round (quorum)").fill("5");
    await page.getByLabel("Round timeout (seconds)").fill("300");
    await page.getByLabel("Aggregation rule").selectOption("reputation");
    await page.getByLabel("Norm clipping").selectOption("adaptive");
    await page.getByLabel(/^Detection threshold/).fill("0.575");
    await screenshot(page, "federation-new-filled");
    await page.getByRole("button", { name: "Create federation" }).click();
    await page.waitForURL(/\/federations\/[0-9a-f-]{36}$/, { timeout: 60_000 });
    federationId = page.url().split("/").pop() as string;

    const federation = await app.prisma.federation.findUniqueOrThrow({
      where: { id: federationId },
    });
    expect(federation.name).toBe(FEDERATION);
    expect(federation.status).toBe("created");
    expect(federation.minClients).toBe(5);
    expect(federation.plannedRounds).toBe(4);
    expect(federation.modelSpec).toMatchObject({ architecture: "mlp", hidden: [128] });
    expect(federation.aggregationRule).toBe("reputation");

    await page.goto("/clients");
    await page.getByRole("button", { name: "Issue enrollment token" }).click();
    const dialog = page.getByRole("dialog", { name: "Issue an enrollment token" });
    await dialog.getByLabel(/^Client id/).fill(HONEST[0]);
    await dialog.getByLabel("Federation").selectOption(federationId);
    await dialog.getByRole("button", { name: "Issue token" }).click();
    const tokenField = dialog.getByTestId("issued-token");
    await tokenField.waitFor();
    const token = await tokenField.inputValue();
    expect(token).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{20,}$/);
    expect(await dialog.getByRole("button", { name: "Copy token" }).count()).toBe(1);
    await screenshot(page, "enrollment-token");
    await dialog.getByRole("button", { name: "Done" }).click();

    const issued = await app.prisma.securityEvent.findFirstOrThrow({
      where: { type: "operator_action" },
      orderBy: { sequence: "desc" },
    });
    expect((issued.metadata as { action?: string }).action).toBe("issue enrollment token");
    expect(JSON.stringify(issued.metadata)).not.toContain(token.split(".")[1]);

    const first = new RestClient(app.url, HONEST[0], federationId);
    await first.enroll(token);
    clients.set(HONEST[0], first);
    for (const id of [...HONEST.slice(1), ATTACKER]) {
      const issuedToken = await issueEnrollmentToken(app.prisma, {
        ttlMinutes: 10,
        clientId: id,
        federationId,
      });
      const client = new RestClient(app.url, id, federationId);
      await client.enroll(issuedToken.token);
      clients.set(id, client);
    }
    for (const client of clients.values()) await client.openSession();
    expect(operator.errors).toEqual([]);
  });

  it("shows rounds, charts and updates as they arrive", async () => {
    const { page } = operator;
    await page.goto(`/federations/${federationId}`);
    await page.getByRole("button", { name: "Start federation" }).click();
    await page
      .getByRole("dialog", { name: `Start ${FEDERATION}?` })
      .getByRole("button", { name: "Start" })
      .click();
    await page.getByTestId("round-progress").waitFor();
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });

    // Round 1, two updates at a time: the counter moves without a reload.
    const order = [...HONEST, ATTACKER];
    const round = await waitForRound(clients.get(HONEST[0]) as RestClient, 1);
    const global = await (clients.get(HONEST[0]) as RestClient).globalModel(round.baseModelVersion);
    direction = sharedDirection(global, 11);
    for (const [index, id] of order.slice(0, 2).entries()) {
      const weights = syntheticUpdate(global, direction, 100 + index, false);
      expect((await (clients.get(id) as RestClient).submit(round, weights)).status).toBe(202);
    }
    const started = Date.now();
    await expect
      .poll(() => page.getByTestId("updates-received").textContent(), {
        timeout: 5_000,
        interval: 100,
      })
      .toBe("2");
    expect(Date.now() - started).toBeLessThan(2_500);
    await screenshot(page, "federation-round-1-collecting");
    for (const [index, id] of order.slice(2).entries()) {
      const weights = syntheticUpdate(global, direction, 102 + index, id === ATTACKER);
      expect((await (clients.get(id) as RestClient).submit(round, weights)).status).toBe(202);
    }

    // The worker closes round 1 at quorum; the round table and the charts follow.
    const firstRow = page.locator('[data-testid="round-table"] tr[data-round="1"]');
    await expect.poll(() => firstRow.textContent(), { timeout: 60_000 }).toContain("published");
    await page.getByTestId("updates-chart").waitFor({ timeout: 10_000 });

    for (let number = 2; number <= MAX_ATTACK_ROUNDS; number++) {
      const quarantined = await app.prisma.client.findUniqueOrThrow({ where: { id: ATTACKER } });
      if (quarantined.status === "quarantined") break;
      await submitRound(number, order);
      const row = page.locator(`[data-testid="round-table"] tr[data-round="${number}"]`);
      await expect.poll(() => row.textContent(), { timeout: 60_000 }).toContain("published");
    }
    const attacker = await app.prisma.client.findUniqueOrThrow({ where: { id: ATTACKER } });
    expect(attacker.status).toBe("quarantined");
    expect(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
    ).toBe(true);

    const evaluated = await app.prisma.round.count({
      where: { federationId, testAccuracy: { not: null } },
    });
    if (evaluated > 0) await page.getByTestId("accuracy-chart").waitFor();
    await screenshot(page, "federation-detail");

    await page.locator('[data-testid="round-table"] tr[data-round="1"] a').click();
    await page.waitForURL(/\/rounds\/1$/);
    const rows = page.locator('[data-testid="update-table"] tbody tr');
    await expect.poll(() => rows.count()).toBe(5);
    const attackerRow = page.locator(`[data-testid="update-table"] tr[data-client="${ATTACKER}"]`);
    expect(await attackerRow.getAttribute("data-status")).toBe("rejected");
    expect(await attackerRow.textContent()).toMatch(/anomaly score 0\.\d+ above threshold/);
    const honestRow = page.locator(`[data-testid="update-table"] tr[data-client="${HONEST[1]}"]`);
    expect(await honestRow.getAttribute("data-status")).toBe("accepted");
    await screenshot(page, "round-1");

    await page.goto("/");
    await page.getByTestId("round-progress").waitFor();
    await page.getByTestId("updates-chart").waitFor();
    await screenshot(page, "overview-running");
    expect(operator.errors).toEqual([]);
  });

  it("SHAP bars of a quarantined client sum to its score", async () => {
    const { page } = operator;
    await page.goto("/clients");
    const row = page.locator(`[data-testid="client-table"] tr[data-client="${ATTACKER}"]`);
    expect(await row.getAttribute("data-status")).toBe("quarantined");
    await row.getByRole("link", { name: ATTACKER }).click();
    await page.waitForURL(new RegExp(`/clients/${ATTACKER}$`));

    const explanation = page.getByTestId("shap-explanation").first();
    await explanation.locator("rect[data-shap-value]").first().waitFor();
    const shapValues = await explanation
      .locator("rect[data-shap-value]")
      .evaluateAll((rects) => rects.map((r) => Number(r.getAttribute("data-shap-value"))));
    const expectedValue = Number(
      await explanation.locator("rect[data-expected-value]").getAttribute("data-expected-value"),
    );
    const shown = Number(await explanation.getByTestId("shap-score").textContent());
    const sum = shapValues.reduce((a, b) => a + b, 0);
    expect(shapValues.length).toBeGreaterThan(1);
    // The score is shown with 4 decimals.
    expect(Math.abs(expectedValue + sum - shown)).toBeLessThanOrEqual(5.1e-5);

    const latest = await app.prisma.anomalyScore.findFirstOrThrow({
      where: { clientId: ATTACKER },
      orderBy: { createdAt: "desc" },
    });
    expect(shown).toBeCloseTo(latest.score, 4);
    expect(shapValues.length).toBe((latest.featureNames as string[]).length);
    await page.getByTestId("reputation-chart").waitFor();
    await page.getByTestId("score-chart").waitFor();
    await screenshot(page, "client-attacker");
    expect(operator.errors).toEqual([]);
  });

  it("revokes a client, rejects its next update and lists the event", async () => {
    const { page } = operator;
    const actions = recordServerActions(page);
    const target = HONEST[3];
    await page.goto("/clients");
    await page.getByRole("button", { name: `Revoke ${target}` }).click();
    const dialog = page.getByRole("dialog", { name: `Revoke ${target}?` });
    await dialog.getByLabel(/^Reason/).fill("key material leaked");
    await dialog.getByRole("button", { name: "Revoke" }).click();
    const row = page.locator(`[data-testid="client-table"] tr[data-client="${target}"]`);
    await expect.poll(() => row.getAttribute("data-status")).toBe("revoked");

    const client = clients.get(target) as RestClient;
    const round = (await client.currentRound()) as RoundInfo;
    const global = await client.globalModel(round.baseModelVersion);
    const rejected = await client.submit(
      round,
      syntheticUpdate(global, direction as Float32Array, 999, false),
    );
    expect(rejected.status).toBe(403);
    expect(rejected.body.error).toBe("client_revoked");

    await page.goto(`/events?clientId=${target}&range=1h`);
    const table = page.getByTestId("event-table");
    await expect.poll(() => table.textContent()).toContain("revoke client");
    await expect.poll(() => table.textContent()).toContain("client_revoked");
    await screenshot(page, "events-revoked-client");

    // The viewer sees no action buttons, and sending the operator's revoke for another client
    // as the viewer changes nothing.
    const other = HONEST[2];
    await viewer.page.goto("/clients");
    await viewer.page.locator(`[data-testid="client-table"] tr[data-client="${other}"]`).waitFor();
    expect(
      await viewer.page.getByRole("button", { name: /Revoke|Quarantine|Release/ }).count(),
    ).toBe(0);
    expect(await viewer.page.getByRole("button", { name: "Issue enrollment token" }).count()).toBe(
      0,
    );
    const revoke = actions.find((a) => a.body.includes(target));
    expect(revoke).toBeDefined();
    const reply = await replayServerAction(
      viewer.page,
      revoke as NonNullable<typeof revoke>,
      target,
      other,
    );
    expect(reply.text).toContain("this action needs the operator role; you are viewer");
    const untouched = await app.prisma.client.findUniqueOrThrow({ where: { id: other } });
    expect(untouched.status).toBe("active");
    expect(
      await app.prisma.credential.count({ where: { clientId: other, revokedAt: { not: null } } }),
    ).toBe(0);
    const cookie = await cookieHeader(viewer.context);
    const read = await fetch(`${app.url}/api/dashboard/clients/${other}`, { headers: { cookie } });
    expect(read.status).toBe(200);
    expect(viewer.errors).toEqual([]);
    expect(operator.errors).toEqual([]);
  });

  it("stops the federation and shows the run at phone width", async () => {
    const { page } = operator;
    await page.goto(`/federations/${federationId}`);
    await page.getByRole("button", { name: "Stop federation" }).click();
    const dialog = page.getByRole("dialog", { name: `Stop ${FEDERATION}?` });
    await dialog.getByLabel(/^Reason/).fill("end of the e2e run");
    await dialog.getByRole("button", { name: "Stop" }).click();
    await expect
      .poll(
        async () =>
          (await app.prisma.federation.findUniqueOrThrow({ where: { id: federationId } })).status,
      )
      .toBe("stopped");

    const phone = await openPage(browser, app.url, PHONE);
    await signIn(phone.page, ADMIN_EMAIL, ADMIN_PASSWORD);
    for (const [path, name] of [
      ["/", "overview-run"],
      [`/federations/${federationId}`, "federation-detail"],
      [`/clients/${ATTACKER}`, "client-attacker"],
      ["/metrics?name=test_accuracy&range=1h", "metrics-run"],
    ] as const) {
      await phone.page.goto(path);
      await phone.page.getByRole("heading", { level: 1 }).first().waitFor();
      expect(await horizontalOverflow(phone.page), path).toBeLessThanOrEqual(1);
      await screenshot(phone.page, `${name}-phone`);
    }
    await page.goto("/metrics?name=updates_accepted_total&range=1h");
    await page.getByTestId("metric-chart").waitFor();
    await screenshot(page, "metrics-run-desktop");
    expect(phone.errors).toEqual([]);
    expect(operator.errors).toEqual([]);
    await phone.context.close();
  });
});
