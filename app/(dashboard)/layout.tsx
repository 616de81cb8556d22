import Link from "next/link";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { getOperatorSession } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const session = await getOperatorSession();
  if (!session) redirect("/login");
  return (
    <div>
      <header
        style={{
          display: "flex",
          gap: "1rem",
          alignItems: "center",
          padding: "0.75rem 1.25rem",
          borderBottom: "1px solid var(--border)",
          background: "var(--panel)",
          flexWrap: "wrap",
        }}
      >
        <strong>QSFL-CAAD</strong>
        <nav aria-label="Main" style={{ display: "flex", gap: "1rem", flexWrap: "wrap" }}>
          <Link href="/">Overview</Link>
        </nav>
        <span className="muted" style={{ marginLeft: "auto" }}>
          {session.email} ({session.role})
        </span>
        <Link href="/api/auth/signout">Sign out</Link>
      </header>
      <main style={{ padding: "1.25rem", maxWidth: 1200, margin: "0 auto" }}>{children}</main>
    </div>
  );
}
