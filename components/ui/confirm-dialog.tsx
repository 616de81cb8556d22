"use client";
/**
 * A button that opens a modal confirm dialog (the native <dialog>, so Escape closes it and focus
 * stays inside while it is open). The dialog's form fields go to `onConfirm` as FormData; an
 * error result keeps the dialog open with the message, a success closes it and announces the
 * message beside the button, unless `renderSuccess` asks to show the result in the dialog.
 */
import { type FormEvent, type ReactNode, useId, useRef, useState } from "react";
import type { ActionResult } from "@/lib/dashboard/server-action";

export interface ConfirmDialogProps<T> {
  /** Text of the button that opens the dialog. */
  label: string;
  /** Accessible name of the opening button when `label` alone is ambiguous in a list. */
  ariaLabel?: string;
  title: string;
  description?: ReactNode;
  confirmLabel: string;
  tone?: "danger" | "normal";
  disabled?: boolean;
  /** Form fields shown in the dialog; their values reach onConfirm. */
  children?: ReactNode;
  onConfirm: (form: FormData) => Promise<ActionResult<T>>;
  /** Called after a successful action, for example to refresh the data. */
  onSuccess?: (result: Extract<ActionResult<T>, { ok: true }>) => void;
  /** Shows the successful result inside the dialog instead of closing it. */
  renderSuccess?: (data: T) => ReactNode;
}

export function ConfirmDialog<T>(props: ConfirmDialogProps<T>) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [success, setSuccess] = useState<{ message: string; data: T } | null>(null);
  const [announcement, setAnnouncement] = useState("");

  function open() {
    setError(null);
    setFieldErrors({});
    setSuccess(null);
    dialog.current?.showModal();
  }

  function close() {
    dialog.current?.close();
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setPending(true);
    setError(null);
    setFieldErrors({});
    let result: ActionResult<T>;
    try {
      result = await props.onConfirm(new FormData(event.currentTarget));
    } catch (caught) {
      result = { ok: false, status: 0, error: `the request failed: ${(caught as Error).message}` };
    }
    setPending(false);
    if (!result.ok) {
      setError(result.error);
      setFieldErrors(result.fieldErrors ?? {});
      return;
    }
    setAnnouncement(result.message);
    props.onSuccess?.(result);
    if (props.renderSuccess) {
      setSuccess({ message: result.message, data: result.data });
      return;
    }
    close();
  }

  const fieldErrorList = Object.entries(fieldErrors);
  return (
    <>
      <button
        type="button"
        className={props.tone === "danger" ? "danger" : "secondary"}
        onClick={open}
        disabled={props.disabled}
        aria-label={props.ariaLabel}
        aria-haspopup="dialog"
      >
        {props.label}
      </button>
      <span role="status" className="visually-hidden">
        {announcement}
      </span>
      <dialog ref={dialog} aria-labelledby={titleId} className="dialog">
        <h2 id={titleId}>{props.title}</h2>
        {success && props.renderSuccess ? (
          <>
            <p role="status">{success.message}</p>
            {props.renderSuccess(success.data)}
            <div className="dialog-buttons">
              <button type="button" onClick={close}>
                Done
              </button>
            </div>
          </>
        ) : (
          <form onSubmit={submit} noValidate={false}>
            {props.description && <div className="dialog-description">{props.description}</div>}
            {props.children}
            {error && (
              <div role="alert" className="error">
                <p>{error}</p>
                {fieldErrorList.length > 1 && (
                  <ul>
                    {fieldErrorList.map(([field, message]) => (
                      <li key={field}>
                        {field}: {message}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            )}
            <div className="dialog-buttons">
              <button type="button" className="secondary" onClick={close} disabled={pending}>
                Cancel
              </button>
              <button
                type="submit"
                className={props.tone === "danger" ? "danger" : undefined}
                disabled={pending}
              >
                {pending ? "Working…" : props.confirmLabel}
              </button>
            </div>
          </form>
        )}
      </dialog>
    </>
  );
}
