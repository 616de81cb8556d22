/**
 * zod schemas of the JSON bodies the client routes return (app/api/v1), checked before the SDK
 * uses any field. Binary fields travel as base64 and are decoded here.
 */

import { z } from "zod";
import { VerificationError } from "./errors";

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "expected base64");
const isoDate = z.string().refine((value) => !Number.isNaN(Date.parse(value)), "expected a date");

export const rejectionSchema = z.object({
  error: z.string().min(1).max(100),
  message: z.string().max(10_000).default(""),
  requestId: z.string().max(200).optional(),
});

export const serverKeysSchema = z.object({
  signing: z.object({ publicKey: base64, fingerprint: z.string() }),
  kem: z.object({ publicKey: base64, fingerprint: z.string() }),
});

export const credentialResponseSchema = z.object({
  clientId: z.string(),
  serial: z.string().regex(/^\d+$/),
  expiresAt: isoDate,
  credential: base64,
  serverSignature: base64,
});

export const sessionResponseSchema = z.object({
  sessionId: z.string().regex(/^[0-9a-f]{32}$/, "expected 16 bytes in hex"),
  expiresAt: isoDate,
  maxUpdates: z.number().int().min(1),
});

export const updateResponseSchema = z.object({
  updateId: z.string().min(1),
  roundId: z.string().min(1),
  receipt: base64,
  receiptSignature: base64,
});

export const federationStatuses = ["created", "running", "completed", "stopped"] as const;
export const roundStatuses = ["open", "collecting", "aggregating", "published", "failed"] as const;

export const roundInfoSchema = z.object({
  federationId: z.string(),
  federationStatus: z.enum(federationStatuses),
  plannedRounds: z.number().int(),
  modelSpec: z.unknown(),
  round: z
    .object({
      roundId: z.string().min(1),
      number: z.number().int().min(0),
      status: z.enum(roundStatuses),
      deadline: isoDate,
      baseModelVersion: z.number().int().min(0),
    })
    .nullable(),
});

/**
 * Parses a JSON response body with `schema`. Throws VerificationError "invalid_response" naming
 * the operation and the first invalid field.
 */
export function parseJsonBody<T extends z.ZodType>(
  schema: T,
  body: Uint8Array,
  operation: string,
): z.output<T> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new VerificationError(
      "response",
      "invalid_response",
      `${operation}: the response body is not JSON`,
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new VerificationError(
      "response",
      "invalid_response",
      `${operation}: invalid response field "${issue.path.join(".")}": ${issue.message}`,
    );
  }
  return parsed.data;
}

/** Decodes a base64 field that the schema already checked. */
export function fromBase64(value: string): Uint8Array {
  const buffer = Buffer.from(value, "base64");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64");
}
