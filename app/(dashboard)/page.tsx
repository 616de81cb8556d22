import { getPrisma } from "@/lib/db";

export const dynamic = "force-dynamic";

export default async function OverviewPage() {
  const prisma = getPrisma();
  const [federations, clients, openAlerts] = await Promise.all([
    prisma.federation.count(),
    prisma.client.count(),
    prisma.alert.count({ where: { state: "open" } }),
  ]);
  return (
    <>
      <h1>Overview</h1>
      {federations === 0 ? (
        <section className="panel">
          <h2 style={{ marginTop: 0 }}>No federation yet</h2>
          <p>Create a federation to start training, or run the demo with `npm run demo`.</p>
        </section>
      ) : (
        <section className="panel">
          <p>
            {federations} federations, {clients} clients, {openAlerts} open alerts.
          </p>
        </section>
      )}
    </>
  );
}
