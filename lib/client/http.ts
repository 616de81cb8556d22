/**
 * One HTTP exchange with the QSFL-CAAD server over the global fetch, with a timeout that covers
 * both the request and reading the whole response body.
 */

import { TransportError } from "./errors";

export interface HttpRequest {
  method: "GET" | "POST";
  url: string;
  /** Sent as `x-request-id`, which the server echoes in logs and rejection bodies. */
  requestId: string;
  contentType?: "application/json" | "application/octet-stream";
  body?: Uint8Array | string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/**
 * Sends `request` and reads the response body. Throws TransportError with kind "timeout" when
 * no complete response arrived within `timeoutMs`, and kind "network" when the connection failed.
 * Any HTTP status, 5xx included, is returned and not thrown.
 */
export async function sendRequest(request: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
  const headers: Record<string, string> = { "x-request-id": request.requestId };
  if (request.contentType !== undefined) headers["content-type"] = request.contentType;
  // The copy gives fetch the ArrayBuffer-backed view that its BodyInit type requires.
  const requestBody =
    request.body instanceof Uint8Array ? new Uint8Array(request.body) : request.body;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers,
      body: requestBody,
      signal,
      redirect: "manual",
    });
    const body = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    if (signal.aborted) {
      throw new TransportError(
        "timeout",
        request.url,
        1,
        `${request.method} ${request.url} timed out after ${timeoutMs} ms`,
        { cause: error },
      );
    }
    throw new TransportError(
      "network",
      request.url,
      1,
      `${request.method} ${request.url} failed: ${describeNetworkError(error)}`,
      { cause: error },
    );
  }
}

/** Returns the most specific reason undici gives, such as "connect ECONNREFUSED 127.0.0.1:9". */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message) return cause.message;
  return error.message;
}
