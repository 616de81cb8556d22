import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { backoffDelay, sendWebhook } from "@/lib/monitoring/webhook";

interface Received {
  at: number;
  method?: string;
  path?: string;
  contentType?: string;
  body: unknown;
}

let server: Server | undefined;

// Starts a receiver on 127.0.0.1 that responds to each request with the next status in
// `answers` (200 once they run out), or never responds when the status is 0.
async function startReceiver(answers: number[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      received.push({
        at: Date.now(),
        method: req.method,
        path: req.url,
        contentType: req.headers["content-type"],
        body: JSON.parse(body),
      });
      const status = answers.shift() ?? 200;
      if (status !== 0) res.writeHead(status).end("{}");
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook?k=secret`, received };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

describe("sendWebhook", () => {
  it("retries 500 twice, then succeeds", async () => {
    const { url, received } = await startReceiver([500, 500, 200]);
    const payload = { status: "firing", alert: { id: "a1", count: 1 } };

    const result = await sendWebhook(url, payload, { initialDelayMs: 40, maxAttempts: 5 });

    expect(result).toEqual({ ok: true, attempts: 3, status: 200 });
    expect(received).toHaveLength(3);
    for (const request of received) {
      expect(request.method).toBe("POST");
      expect(request.path).toBe("/hook?k=secret");
      expect(request.contentType).toBe("application/json");
      expect(request.body).toEqual(payload);
    }
    expect(received[1].at - received[0].at).toBeGreaterThanOrEqual(35);
    expect(received[2].at - received[1].at).toBeGreaterThanOrEqual(75);
  });

  it("gives up after maxAttempts on 5xx", async () => {
    const { url, received } = await startReceiver([503, 503, 503, 503]);
    const result = await sendWebhook(url, {}, { initialDelayMs: 1, maxAttempts: 3 });
    expect(result).toEqual({ ok: false, attempts: 3, status: 503, error: "HTTP 503" });
    expect(received).toHaveLength(3);
  });

  it("does not retry a 4xx other than 429", async () => {
    const { url, received } = await startReceiver([400]);
    const result = await sendWebhook(url, {}, { initialDelayMs: 1 });
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(1);
    expect(result.status).toBe(400);
    expect(received).toHaveLength(1);
  });

  it("retries 429", async () => {
    const { url, received } = await startReceiver([429, 204]);
    const result = await sendWebhook(url, {}, { initialDelayMs: 1 });
    expect(result).toEqual({ ok: true, attempts: 2, status: 204 });
    expect(received).toHaveLength(2);
  });

  it("retries a timed-out attempt", async () => {
    const { url, received } = await startReceiver([0, 200]);
    const result = await sendWebhook(url, {}, { initialDelayMs: 1, timeoutMs: 150 });
    expect(result).toEqual({ ok: true, attempts: 2, status: 200 });
    expect(received).toHaveLength(2);
  });

  it("retries network errors and reports the last one", async () => {
    const { url } = await startReceiver([]);
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    const result = await sendWebhook(url, {}, { initialDelayMs: 1, maxAttempts: 3 });
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(3);
    expect(result.status).toBeNull();
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it("rejects invalid URLs and options", async () => {
    await expect(sendWebhook("not a url", {})).rejects.toThrow(/invalid webhook URL "not a url"/);
    await expect(sendWebhook("ftp://127.0.0.1/x", {})).rejects.toThrow(/protocol "ftp:"/);
    await expect(sendWebhook("http://127.0.0.1:1/", {}, { maxAttempts: 0 })).rejects.toThrow(
      /invalid maxAttempts 0/,
    );
  });
});

describe("backoffDelay", () => {
  it("doubles up to the cap", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 500, 8_000))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000,
    ]);
  });
});
