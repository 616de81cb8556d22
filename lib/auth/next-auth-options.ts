/**
 * next-auth configuration: a credentials provider over the operator accounts, JWT sessions that
 * expire after auth.sessionMaxAgeSeconds, and the operator's role carried in the token.
 */
import type { AuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { getConfig } from "../config";
import { getPrisma } from "../db";
import { logger } from "../logger";
import { SecurityEventLogger } from "../monitoring/security-events";
import { verifyOperatorPassword } from "./operators";
import { FailureRateLimiter } from "./rate-limit";

let limiter: FailureRateLimiter | undefined;
const BLOCKED_EVENT_INTERVAL_MS = 60_000;
const blockedEventAt = new Map<string, number>();

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

          // Sign-in attempts go to the security event log with the email and client address,
          // never the password. A lost event is logged and does not change the sign-in outcome.
          const events = new SecurityEventLogger(getPrisma());
          const recordFailure = (reason: string, details: Record<string, unknown>) =>
            events
              .logEvent({
                type: "authentication",
                severity: "medium",
                description: `operator sign-in failed for ${email}: ${reason}`,
                metadata: { ...details, email, address, success: false, reason },
              })
              .catch((error: unknown) =>
                logger.error({ err: error, email }, "could not record a failed sign-in"),
              );

          if (failures.isBlocked(key)) {
            logger.warn({ email, address }, "sign-in rejected: too many failed attempts");
            // One event per key and minute while blocked, so a flood cannot fill the log.
            const now = Date.now();
            if (now - (blockedEventAt.get(key) ?? 0) >= BLOCKED_EVENT_INTERVAL_MS) {
              for (const [seen, at] of blockedEventAt) {
                if (now - at >= BLOCKED_EVENT_INTERVAL_MS) blockedEventAt.delete(seen);
              }
              blockedEventAt.set(key, now);
              await recordFailure("too many failed attempts in the last minute", { blocked: true });
            }
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
            await recordFailure("wrong email or password", { failuresInWindow: count });
            return null;
          }

          failures.reset(key);
          logger.info({ operatorId: operator.id, email }, "operator signed in");
          await events
            .logOperatorAction(operator.id, "sign in", {
              email: operator.email,
              address,
              role: operator.role,
              success: true,
            })
            .catch((error: unknown) =>
              logger.error({ err: error, email }, "could not record a sign-in"),
            );
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
