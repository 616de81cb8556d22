"use client";
/** The admin's form that creates an operator account, checked with the server's zod schema. */
import { type FormEvent, useState } from "react";
import type { ActionResult } from "@/lib/dashboard/server-action";
import {
  createAccountSchema,
  type FieldErrors,
  fieldErrorsOf,
  MIN_OPERATOR_PASSWORD_LENGTH,
  OPERATOR_ROLES,
} from "@/lib/validations/dashboard";
import { FieldError } from "../ui/field-error";
import { useActionRefresh } from "../use-action-refresh";

export function AccountForm({
  createAccount,
}: {
  createAccount: (form: FormData) => Promise<ActionResult<{ accountId: string }>>;
}) {
  const refresh = useActionRefresh();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [pending, setPending] = useState(false);
  const [formKey, setFormKey] = useState(0);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const checked = createAccountSchema.safeParse(Object.fromEntries(form));
    if (!checked.success) {
      setErrors(fieldErrorsOf(checked.error));
      setMessage({ ok: false, text: "Correct the marked fields." });
      return;
    }
    setPending(true);
    const result = await createAccount(form).catch(
      (error: Error): ActionResult<{ accountId: string }> => ({
        ok: false,
        status: 0,
        error: `the request failed: ${error.message}`,
      }),
    );
    setPending(false);
    if (!result.ok) {
      setErrors(result.fieldErrors ?? {});
      setMessage({ ok: false, text: result.error });
      return;
    }
    setErrors({});
    setMessage({ ok: true, text: result.message });
    setFormKey((k) => k + 1);
    refresh();
  }

  const describedBy = (field: string, hint?: string) =>
    [errors[field] ? `account-${field}-error` : undefined, hint].filter(Boolean).join(" ") ||
    undefined;
  return (
    <form
      key={formKey}
      className="panel form"
      onSubmit={submit}
      noValidate
      aria-labelledby="new-account-title"
    >
      <h2 id="new-account-title">New operator account</h2>
      <label htmlFor="account-email">Email</label>
      <input
        id="account-email"
        name="email"
        type="email"
        autoComplete="off"
        required
        aria-describedby={describedBy("email")}
        aria-invalid={Boolean(errors.email)}
      />
      <FieldError id="account-email-error" message={errors.email} />
      <label htmlFor="account-name">Name (optional)</label>
      <input id="account-name" name="name" autoComplete="off" maxLength={200} />
      <label htmlFor="account-role">Role</label>
      <select id="account-role" name="role" defaultValue="viewer">
        {OPERATOR_ROLES.map((role) => (
          <option key={role} value={role}>
            {role}
          </option>
        ))}
      </select>
      <label htmlFor="account-password">Password</label>
      <input
        id="account-password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        minLength={MIN_OPERATOR_PASSWORD_LENGTH}
        aria-describedby={describedBy("password", "account-password-hint")}
        aria-invalid={Boolean(errors.password)}
      />
      <p id="account-password-hint" className="muted small">
        At least {MIN_OPERATOR_PASSWORD_LENGTH} characters. Only its bcrypt hash is stored.
      </p>
      <FieldError id="account-password-error" message={errors.password} />
      {message && (
        <p role={message.ok ? "status" : "alert"} className={message.ok ? "ok" : "error"}>
          {message.text}
        </p>
      )}
      <p>
        <button type="submit" disabled={pending}>
          {pending ? "Creating…" : "Create account"}
        </button>
      </p>
    </form>
  );
}
