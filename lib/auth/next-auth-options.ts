/**
 * next-auth configuration: a credentials provider over the operator accounts, JWT sessions that
 * expire after auth.sessionMaxAgeSeconds, and the operator's role carried in the token.
 */
import type { AuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { getConfig } from "../config";
import { getPrisma } from "../db";
import { logger } from "../logger";
import { verifyOperatorPassword } from "./operators";
import { FailureRateLimiter } from "./rate-limit";

let limiter: FailureRateLimiter | undefined;

export function buildAuthOptions(): AuthOptions {
  const config = getConfig();
  limiter ??= new FailureRateLimiter(config.auth.maxFailedSignInsPerMinute);
  const failures = limiter;
  return {
    secret: process.env.NEXTAUTH_SECRET,
    session: { strategy: "jwt", maxAge: config.auth.sessionMaxAgeSeconds },
    jwt: { maxAge: config.auth.sessionMaxAgeSeconds },
    pages: { signIn: "/login" },
    providers: [
      CredentialsProvider({
        name: "Operator account",
        credentials: {
          email: { label: "Email", type: "email" },
          password: { label: "Password", type: "password" },
        },
        async authorize(credentials, request) {
          const email = String(credentials?.email ?? "")
            .trim()
            .toLowerCase();
          const password = String(credentials?.password ?? "");
          const forwarded = request?.headers?.["x-forwarded-for"];
          const address = (Array.isArray(forwarded) ? forwarded[0] : forwarded) ?? "local";
          const key = `${email}|${address}`;
          if (!email || !password) return null;
          if (failures.isBlocked(key)) {
            logger.warn({ email, address }, "sign-in rejected: too many failed attempts");
            throw new Error("Too many failed sign-ins. Wait a minute and try again.");
          }
          const operator = await verifyOperatorPassword(getPrisma(), email, password).catch(
            (error: unknown) => {
              logger.error({ err: error, email }, "sign-in check failed");
              return null;
            },
          );
          if (!operator) {
            const count = failures.recordFailure(key);
            logger.warn({ email, address, failures: count }, "sign-in failed");
            return null;
          }
          failures.reset(key);
          logger.info({ operatorId: operator.id, email }, "operator signed in");
          return {
            id: operator.id,
            email: operator.email,
            name: operator.name,
            role: operator.role,
          };
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user) token.role = (user as { role?: string }).role;
        return token;
      },
      session({ session, token }) {
        if (session.user) {
          session.user.id = token.sub ?? "";
          session.user.role = (token.role as string | undefined) ?? "viewer";
        }
        return session;
      },
    },
  };
}
