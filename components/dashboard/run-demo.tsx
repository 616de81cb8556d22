"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import type { ActionResult } from "@/lib/dashboard/server-action";
import { ConfirmDialog } from "../ui/confirm-dialog";

/** Renders a button that starts the demo federation and its client processes on this server. */
export function RunDemoButton({
  run,
}: {
  run: (form: FormData) => Promise<ActionResult<{ federationId: string }>>;
}) {
  const router = useRouter();
  return (
    <ConfirmDialog
      label="Run the demo federation"
      title="Run the demo federation?"
      description="Creates a federation on the MLP and MNIST and starts 6 honest and 2 malicious client processes on this server for 8 rounds. The malicious clients flip 20% of their labels, then scale their weights by 1.5 and add Gaussian noise."
      confirmLabel="Run the demo"
      onConfirm={run}
      onSuccess={() => router.refresh()}
      renderSuccess={(data) => (
        <Link href={`/federations/${data.federationId}`}>Open the demo federation</Link>
      )}
    />
  );
}
