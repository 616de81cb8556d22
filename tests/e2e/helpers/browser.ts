/**
 * Debian's Chromium driven by playwright-core, with the helpers the e2e tests share: signing in,
 * collecting console errors, screenshots under test-results/screenshots/, and checks for
 * unlabelled controls and horizontal overflow.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const SCREENSHOT_DIR = path.resolve("test-results", "screenshots");
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
}

export interface TrackedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
}

/** Opens a fresh browser context (its own cookies) whose console errors are collected. */
export async function openPage(
  browser: Browser,
  baseURL: string,
  viewport = DESKTOP,
): Promise<TrackedPage> {
  const context = await browser.newContext({ baseURL, viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  page.setDefaultTimeout(20_000);
  return { context, page, errors };
}

/** Signs in through the login form and waits for the overview. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/");
  await page.getByTestId("signed-in-as").waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Returns a description of every visible form control without an accessible label. */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const missing: string[] = [];
    for (const element of document.querySelectorAll("input, select, textarea, button")) {
      const control = element as HTMLInputElement;
      if (control.type === "hidden" || control.offsetParent === null) continue;
      const named =
        (control.labels?.length ?? 0) > 0 ||
        control.getAttribute("aria-label") ||
        control.getAttribute("aria-labelledby") ||
        (control.tagName === "BUTTON" && control.textContent?.trim());
      if (!named) missing.push(control.outerHTML.slice(0, 120));
    }
    return missing;
  });
}

/** Returns how many pixels the page is wider than its viewport (0 when nothing overflows). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}

/** Returns the Cookie header of a browser context, for requests sent from the test process. */
export async function cookieHeader(context: BrowserContext): Promise<string> {
  const cookies = await context.cookies();
  return cookies.map((c) => `${c.name}=${c.value}`).join("; ");
}
