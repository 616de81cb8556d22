/**
 * Operator accounts for the dashboard. Passwords are hashed with bcrypt (cost 12) and only the
 * hash is stored. The first start creates one admin, with a password from QSFL_ADMIN_PASSWORD or
 * a generated one that is printed once.
 */
import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";
import type { OperatorRole, PrismaClient } from "../generated/prisma/client";

export const BCRYPT_COST = 12;
export const MIN_PASSWORD_LENGTH = 12;

export class OperatorInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "OperatorInputError";
  }
}

export interface OperatorIdentity {
  id: string;
  email: string;
  name: string | null;
  role: OperatorRole;
}

export async function hashPassword(password: string): Promise<string> {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new OperatorInputError(
      "password",
      `password is too short: ${password.length} characters, at least ${MIN_PASSWORD_LENGTH} required`,
    );
  }
  return bcrypt.hash(password, BCRYPT_COST);
}

export async function createOperator(
  prisma: PrismaClient,
  input: { email: string; password: string; role: OperatorRole; name?: string },
): Promise<OperatorIdentity> {
  const email = normaliseEmail(input.email);
  const passwordHash = await hashPassword(input.password);
  const user = await prisma.user.create({
    data: { email, passwordHash, role: input.role, name: input.name ?? null },
  });
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

// A real bcrypt hash of a random password, compared against when the email is unknown, so that a
// sign-in attempt takes the same time whether or not the account exists.
let decoyHash: string | undefined;

/** Returns the operator when the email and password match an enabled account, else null. */
export async function verifyOperatorPassword(
  prisma: PrismaClient,
  emailInput: string,
  password: string,
): Promise<OperatorIdentity | null> {
  const email = normaliseEmail(emailInput);
  const user = await prisma.user.findUnique({ where: { email } });
  if (!user || user.disabled) {
    decoyHash ??= await bcrypt.hash(randomBytes(16).toString("hex"), BCRYPT_COST);
    await bcrypt.compare(password, decoyHash);
    return null;
  }
  if (!(await bcrypt.compare(password, user.passwordHash))) return null;
  await prisma.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

export interface InitialAdmin {
  email: string;
  created: boolean;
  /** Set only when the password was generated in this call; it is not stored anywhere else. */
  generatedPassword?: string;
}

/** Creates the first admin when there is no operator account yet. */
export async function ensureInitialAdmin(
  prisma: PrismaClient,
  email: string,
  passwordFromEnv?: string,
): Promise<InitialAdmin> {
  const existing = await prisma.user.count();
  if (existing > 0) return { email: normaliseEmail(email), created: false };
  const generatedPassword = passwordFromEnv ? undefined : randomBytes(12).toString("base64url");
  const password = passwordFromEnv ?? (generatedPassword as string);
  await createOperator(prisma, { email, password, role: "admin", name: "Administrator" });
  return { email: normaliseEmail(email), created: true, generatedPassword };
}

function normaliseEmail(email: string): string {
  const trimmed = email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(trimmed)) {
    throw new OperatorInputError("email", `invalid email address "${email}"`);
  }
  return trimmed;
}
