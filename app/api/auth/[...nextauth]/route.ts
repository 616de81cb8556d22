import type { NextRequest } from "next/server";
import NextAuth from "next-auth";
import { buildAuthOptions } from "@/lib/auth/next-auth-options";

type RouteContext = { params: Promise<{ nextauth: string[] }> };

async function handler(request: NextRequest, context: RouteContext): Promise<Response> {
  return NextAuth(request, context as never, buildAuthOptions());
}

export { handler as GET, handler as POST };
