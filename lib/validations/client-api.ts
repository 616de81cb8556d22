import { z } from "zod";

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "expected base64");

export const enrollRequestSchema = z
  .object({
    token: z.string().min(1).max(200),
    clientId: z.string().min(1).max(64),
    signingPublicKey: base64,
    kemPublicKey: base64.nullable().optional(),
    proofSignature: base64,
  })
  .strict();

export const rotateRequestSchema = z
  .object({
    clientId: z.string().min(1).max(64),
    rotation: base64,
    signature: base64,
  })
  .strict();
