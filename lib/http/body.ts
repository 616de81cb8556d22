/**
 * Reads a request body up to a byte limit, stopping as soon as the limit is passed so an oversized
 * upload is never buffered whole.
 */
import type { z } from "zod";
import { reject } from "../auth/rejection";

export async function readBodyWithLimit(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    throw reject(413, "too_large", `the body is ${declared} bytes, the limit is ${maxBytes}`, {
      type: "cryptographic",
      severity: "medium",
    });
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw reject(413, "too_large", `the body is larger than the limit of ${maxBytes} bytes`, {
        type: "cryptographic",
        severity: "medium",
      });
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Throws a 415 rejection unless the request's media type is `expected`. */
export function requireContentType(request: Request, expected: string): void {
  const value = request.headers.get("content-type") ?? "";
  const mediaType = value.split(";")[0].trim().toLowerCase();
  if (mediaType !== expected) {
    throw reject(
      415,
      "unsupported_media_type",
      `expected Content-Type ${expected}, got ${value ? `"${value.slice(0, 80)}"` : "none"}`,
      {
        type: "cryptographic",
        severity: "low",
      },
    );
  }
}

/**
 * Reads a JSON body of at most `maxBytes` and validates it with `schema`, throwing a 415, 413 or
 * 400 rejection that names the problem.
 */
export async function readJsonBody<T>(
  request: Request,
  schema: z.ZodType<T>,
  maxBytes: number,
): Promise<T> {
  requireContentType(request, "application/json");
  const body = await readBodyWithLimit(request, maxBytes);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw reject(400, "malformed", "the body is not valid JSON", { severity: "low" });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw reject(400, "malformed", `invalid field "${issue.path.join(".")}": ${issue.message}`, {
      severity: "low",
    });
  }
  return parsed.data;
}
