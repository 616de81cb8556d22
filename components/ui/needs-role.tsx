/** Shown instead of a page or form that the operator's role may not use. */
export function NeedsRole({ needed, what }: { needed: "operator" | "admin"; what: string }) {
  return (
    <section className="panel" role="note">
      <h2>Needs the {needed} role</h2>
      <p>
        {what} needs the {needed} role. Ask an administrator to change your account if you need it.
      </p>
    </section>
  );
}
