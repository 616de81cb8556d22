/**
 * The dashboard in a real browser against the real app. It covers sign-in and its security
 * events, the alert lifecycle, the rule editor and account administration. It checks what a
 * viewer may not do, in the page and by calling the server action or the JSON route directly.
 * Every page is rendered at desktop and phone width without console errors or unlabelled controls.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOperator } from "@/lib/auth/operators";
import { AlertManager } from "@/lib/monitoring/alerts";
import { type CapturedAction, recordServerActions, replayServerAction } from "./helpers/actions";
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
  unlabelledControls,
} from "./helpers/browser";

const OPERATOR = { email: "operator@e2e.test", password: "operator-password-1" };
const VIEWER = { email: "viewer@e2e.test", password: "viewer-password-12" };

let app: RunningApp;
let browser: Browser;
let operator: TrackedPage;
let viewer: TrackedPage;
let operatorActions: CapturedAction[] = [];

beforeAll(async () => {
  app = await startApp();
  await createOperator(app.prisma, { ...OPERATOR, role: "operator" });
  await createOperator(app.prisma, { ...VIEWER, role: "viewer" });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

/** Returns the console errors except the 401 that next-auth's credentials callback returns for a wrong password. */
function unexpectedErrors(tracked: TrackedPage): string[] {
  return tracked.errors.filter(
    (e) => !(e.includes("401") && e.includes("/api/auth/callback/credentials")),
  );
}

describe("dashboard access", () => {
  it("signs in and refuses a wrong password", async () => {
    const visitor = await openPage(browser, app.url);
    await visitor.page.goto("/");
    await visitor.page.waitForURL((url) => url.pathname === "/login");
    await screenshot(visitor.page, "login");

    await visitor.page.getByLabel("Email").fill(ADMIN_EMAIL);
    await visitor.page.getByLabel("Password").fill("not-the-password");
    await visitor.page.getByRole("button", { name: "Sign in" }).click();
    await expect
      .poll(() => visitor.page.locator("#login-error").textContent())
      .toContain("Wrong email or password.");
    expect(new URL(visitor.page.url()).pathname).toBe("/login");

    const failure = await app.prisma.securityEvent.findFirstOrThrow({
      where: { type: "authentication" },
      orderBy: { sequence: "desc" },
    });
    const metadata = failure.metadata as Record<string, unknown>;
    expect(metadata.email).toBe(ADMIN_EMAIL);
    expect(metadata.success).toBe(false);
    expect(typeof metadata.address).toBe("string");
    expect(JSON.stringify(failure.metadata)).not.toContain("not-the-password");
    expect(failure.description).not.toContain("not-the-password");

    await signIn(visitor.page, ADMIN_EMAIL, ADMIN_PASSWORD);
    const empty = visitor.page.getByText("No federation yet: create one", { exact: false });
    await expect.poll(() => empty.count()).toBe(1);
    const link = visitor.page.getByRole("link", { name: "create one" });
    expect(await link.getAttribute("href")).toBe("/federations/new");
    await screenshot(visitor.page, "overview-empty");

    const signedIn = await app.prisma.securityEvent.findFirstOrThrow({
      where: { type: "operator_action" },
      orderBy: { sequence: "desc" },
    });
    expect((signedIn.metadata as { action?: string }).action).toBe("sign in");
    expect((signedIn.metadata as { email?: string }).email).toBe(ADMIN_EMAIL);
    expect(unexpectedErrors(visitor)).toEqual([]);
    await visitor.context.close();
  });

  it("acknowledges an alert with a note, then resolves it", async () => {
    const alerts = new AlertManager(app.prisma, { notifier: null });
    const first = await alerts.createAlert("Quarantine spike", "3 clients quarantined", "high");
    await alerts.createAlert("Slow rounds", "round_duration_seconds above 60", "medium");

    operator = await openPage(browser, app.url);
    operatorActions = recordServerActions(operator.page);
    await signIn(operator.page, OPERATOR.email, OPERATOR.password);
    await operator.page.goto("/alerts");
    const item = operator.page.locator(`[data-alert="${first.alert.id}"]`);
    await item.waitFor();
    await screenshot(operator.page, "alerts-open");

    // Keyboard only: open the dialog with Enter, type the note, tab to the confirm button.
    await item.getByRole("button", { name: "Acknowledge Quarantine spike" }).focus();
    await operator.page.keyboard.press("Enter");
    const dialog = operator.page.getByRole("dialog", { name: 'Acknowledge "Quarantine spike"?' });
    await dialog.waitFor();
    await expect
      .poll(() => dialog.getByLabel("Note").evaluate((e) => e === document.activeElement))
      .toBe(true);
    await operator.page.keyboard.type("Looking at the attacker clients");
    await operator.page.keyboard.press("Tab");
    await operator.page.keyboard.press("Tab");
    await operator.page.keyboard.press("Enter");
    await expect
      .poll(
        async () => (await app.prisma.alert.findUnique({ where: { id: first.alert.id } }))?.state,
      )
      .toBe("acknowledged");
    const acknowledged = await app.prisma.alert.findUniqueOrThrow({
      where: { id: first.alert.id },
    });
    expect(acknowledged.acknowledgementNote).toBe("Looking at the attacker clients");

    await operator.page.getByRole("link", { name: /^Acknowledged/ }).click();
    await operator.page.waitForURL(/state=acknowledged/);
    await expect
      .poll(() => operator.page.getByTestId("acknowledgement").first().textContent())
      .toContain(`Acknowledged by ${OPERATOR.email}`);
    await screenshot(operator.page, "alerts-acknowledged");

    await operator.page.getByRole("button", { name: "Resolve Quarantine spike" }).click();
    const resolveDialog = operator.page.getByRole("dialog", {
      name: 'Resolve "Quarantine spike"?',
    });
    await resolveDialog.getByLabel("Resolution note (optional)").fill("Attackers quarantined");
    await resolveDialog.getByRole("button", { name: "Resolve" }).click();
    await expect
      .poll(
        async () => (await app.prisma.alert.findUnique({ where: { id: first.alert.id } }))?.state,
      )
      .toBe("resolved");
    const resolved = await app.prisma.alert.findUniqueOrThrow({ where: { id: first.alert.id } });
    expect(resolved.resolutionNote).toBe("Attackers quarantined");

    const events = await app.prisma.securityEvent.findMany({
      where: { type: "operator_action" },
      orderBy: { sequence: "asc" },
    });
    const actions = events.map((e) => (e.metadata as { action?: string }).action);
    expect(actions).toContain("acknowledge alert");
    expect(actions).toContain("resolve alert");
    expect(operatorActions.length).toBeGreaterThanOrEqual(2);
    expect(operator.errors).toEqual([]);
  });

  it("viewer cannot acknowledge an alert in the page or by a direct call", async () => {
    const open = await app.prisma.alert.findFirstOrThrow({ where: { title: "Slow rounds" } });
    viewer = await openPage(browser, app.url);
    await signIn(viewer.page, VIEWER.email, VIEWER.password);
    await viewer.page.goto("/alerts");
    await viewer.page.locator(`[data-alert="${open.id}"]`).waitFor();
    expect(await viewer.page.getByRole("button", { name: /Acknowledge/ }).count()).toBe(0);
    expect(await viewer.page.getByRole("button", { name: /Resolve/ }).count()).toBe(0);

    const acknowledgeRequest = operatorActions[0];
    const first = await app.prisma.alert.findFirstOrThrow({ where: { title: "Quarantine spike" } });
    const reply = await replayServerAction(viewer.page, acknowledgeRequest, first.id, open.id);
    expect(reply.status).toBe(200);
    expect(reply.text).toContain("this action needs the operator role; you are viewer");
    const after = await app.prisma.alert.findUniqueOrThrow({ where: { id: open.id } });
    expect(after.state).toBe("open");
    expect(after.acknowledgementNote).toBeNull();

    const denied = await app.prisma.securityEvent.findFirstOrThrow({
      where: { type: "operator_action" },
      orderBy: { sequence: "desc" },
    });
    expect((denied.metadata as { action?: string }).action).toBe("denied acknowledgeAlert");

    const anonymous = await fetch(`${app.url}/api/dashboard/alerts`);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error).toBe("unauthorized");
    const cookie = await cookieHeader(viewer.context);
    const allowed = await fetch(`${app.url}/api/dashboard/alerts?state=open`, {
      headers: { cookie },
    });
    expect(allowed.status).toBe(200);
    expect((await allowed.json()).alerts.map((a: { id: string }) => a.id)).toContain(open.id);
    const forbidden = await fetch(`${app.url}/api/dashboard/accounts`, { headers: { cookie } });
    expect(forbidden.status).toBe(403);
    expect(viewer.errors).toEqual([]);
  });

  it("admin creates an operator account and a viewer cannot", async () => {
    const admin = await openPage(browser, app.url);
    await signIn(admin.page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await admin.page.goto("/admin/accounts");
    await admin.page.getByLabel("Email").fill("analyst@e2e.test");
    await admin.page.getByLabel("Role").selectOption("operator");
    await admin.page.getByLabel("Password").fill("short");
    await admin.page.getByRole("button", { name: "Create account" }).click();
    await expect
      .poll(() => admin.page.locator("#account-password-error").textContent())
      .toContain("at least 12 characters");
    expect(await app.prisma.user.count({ where: { email: "analyst@e2e.test" } })).toBe(0);

    await admin.page.getByLabel("Password").fill("analyst-password-1");
    await admin.page.getByRole("button", { name: "Create account" }).click();
    await admin.page.locator('[data-email="analyst@e2e.test"]').waitFor();
    const created = await app.prisma.user.findUniqueOrThrow({
      where: { email: "analyst@e2e.test" },
    });
    expect(created.role).toBe("operator");
    expect(created.passwordHash).not.toContain("analyst-password-1");
    await screenshot(admin.page, "accounts");

    await viewer.page.goto("/admin/accounts");
    await viewer.page.getByRole("heading", { name: "Needs the admin role" }).waitFor();
    expect(await viewer.page.getByRole("link", { name: "Accounts" }).count()).toBe(0);
    expect(admin.errors).toEqual([]);
    await admin.context.close();
  });

  it("operator saves a threshold rule", async () => {
    await operator.page.goto("/alerts/rules");
    await operator.page.getByLabel("Name").fill("Quarantined clients");
    await operator.page.getByLabel("Metric").fill("quarantined_clients");
    await operator.page.getByLabel("Comparator").selectOption("gt");
    await operator.page.getByLabel("Threshold").fill("0");
    await operator.page.getByLabel("Severity").selectOption("high");
    await operator.page.getByLabel("For (seconds the condition must hold)").fill("30");
    await operator.page.getByRole("button", { name: "Save rule" }).click();
    await operator.page.getByRole("rowheader", { name: "Quarantined clients" }).waitFor();
    const rule = await app.prisma.alertRule.findUniqueOrThrow({
      where: { name: "Quarantined clients" },
    });
    expect(rule.metric).toBe("quarantined_clients");
    expect(rule.severity).toBe("high");
    expect(rule.forSeconds).toBe(30);
    await screenshot(operator.page, "alert-rules");

    await viewer.page.goto("/alerts/rules");
    await viewer.page.getByRole("rowheader", { name: "Quarantined clients" }).waitFor();
    expect(await viewer.page.getByRole("button", { name: "Save rule" }).count()).toBe(0);
    expect(operator.errors).toEqual([]);
  });

  it("renders every page at desktop and phone width", async () => {
    const paths = [
      "/",
      "/federations",
      "/federations/new",
      "/clients",
      "/events",
      "/alerts",
      "/alerts/rules",
      "/metrics",
      "/admin/accounts",
    ];
    const admin = await openPage(browser, app.url);
    await signIn(admin.page, ADMIN_EMAIL, ADMIN_PASSWORD);
    const phone = await openPage(browser, app.url, PHONE);
    await signIn(phone.page, ADMIN_EMAIL, ADMIN_PASSWORD);
    for (const path of paths) {
      const name = path === "/" ? "overview" : path.slice(1).replaceAll("/", "-");
      await admin.page.goto(path);
      await admin.page.getByRole("heading", { level: 1 }).first().waitFor();
      expect(await unlabelledControls(admin.page), path).toEqual([]);
      await screenshot(admin.page, `${name}-desktop`);

      await phone.page.goto(path);
      await phone.page.getByRole("heading", { level: 1 }).first().waitFor();
      expect(await horizontalOverflow(phone.page), path).toBeLessThanOrEqual(1);
      await screenshot(phone.page, `${name}-phone`);
    }
    await admin.page.goto("/events");
    await expect
      .poll(() => admin.page.getByTestId("chain-status").textContent())
      .toMatch(/Intact: \d+ events verified/);
    expect(admin.errors).toEqual([]);
    expect(phone.errors).toEqual([]);
    await admin.context.close();
    await phone.context.close();
  });
});
