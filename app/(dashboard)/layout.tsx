import Link from "next/link";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { MainNav } from "@/components/dashboard/nav";
import { Providers } from "@/components/providers";
import { getOperatorSession } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const session = await getOperatorSession();
  if (!session) redirect("/login");
  return (
    <Providers>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="site-header">
        <strong className="brand">QSFL-CAAD</strong>
        <MainNav isAdmin={session.role === "admin"} />
        <span className="muted account" data-testid="signed-in-as">
          {session.email} ({session.role})
        </span>
        <Link href="/api/auth/signout">Sign out</Link>
      </header>
      <main id="content" className="content">
        {children}
      </main>
    </Providers>
  );
}
