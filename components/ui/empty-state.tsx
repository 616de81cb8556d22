import type { ReactNode } from "react";

/** A panel saying that there is nothing to show yet and what to do next. */
export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="panel empty-state">
      <h2>{title}</h2>
      {children}
    </section>
  );
}
