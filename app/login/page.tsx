import { redirect } from "next/navigation";
import { getServerSession } from "next-auth";
import { buildAuthOptions } from "@/lib/auth/next-auth-options";
import { LoginForm } from "./login-form";

export const dynamic = "force-dynamic";

export default async function LoginPage() {
  const session = await getServerSession(buildAuthOptions());
  if (session) redirect("/");
  return (
    <main style={{ maxWidth: 400, margin: "10vh auto", padding: "0 1rem" }}>
      <h1 style={{ marginBottom: 0 }}>QSFL-CAAD</h1>
      <p className="muted" style={{ marginTop: 4 }}>
        Quantum-safe federated learning operations
      </p>
      <section className="panel">
        <h2 style={{ marginTop: 0 }}>Sign in</h2>
        <LoginForm />
      </section>
    </main>
  );
}
