"use client";
/**
 * Threshold rules: the list, and an editor that creates a rule or replaces the rule of the same
 * name. "Edit" copies a rule into the editor.
 */
import { type FormEvent, useState } from "react";
import type { AlertRuleRow } from "@/lib/dashboard/alerts";
import type { ActionResult } from "@/lib/dashboard/server-action";
import {
  alertRuleSchema,
  COMPARATOR_VALUES,
  type FieldErrors,
  fieldErrorsOf,
  SEVERITY_VALUES,
} from "@/lib/validations/dashboard";
import { formatTime } from "../format";
import { useLiveData } from "../live";
import { Badge } from "../ui/badge";
import { FieldError } from "../ui/field-error";
import { useActionRefresh } from "../use-action-refresh";

const SYMBOLS: Record<string, string> = { gt: ">", gte: "≥", lt: "<", lte: "≤", eq: "=", ne: "≠" };

interface RuleDraft {
  name: string;
  metric: string;
  comparator: string;
  threshold: string;
  severity: string;
  forSeconds: string;
  description: string;
  enabled: boolean;
}

const EMPTY: RuleDraft = {
  name: "",
  metric: "",
  comparator: "gt",
  threshold: "",
  severity: "medium",
  forSeconds: "0",
  description: "",
  enabled: true,
};

export function AlertRules({
  initial,
  metricNames,
  saveRule,
}: {
  initial: AlertRuleRow[];
  metricNames: string[];
  saveRule?: (form: FormData) => Promise<ActionResult<{ ruleId: string }>>;
}) {
  const query = useLiveData("/api/dashboard/alerts/rules", initial, () => false);
  const refresh = useActionRefresh();
  const [draft, setDraft] = useState<RuleDraft>(EMPTY);
  const [formKey, setFormKey] = useState(0);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [pending, setPending] = useState(false);

  function edit(rule: AlertRuleRow) {
    setDraft({
      name: rule.name,
      metric: rule.metric,
      comparator: rule.comparator,
      threshold: String(rule.threshold),
      severity: rule.severity,
      forSeconds: String(rule.forSeconds),
      description: rule.description ?? "",
      enabled: rule.enabled,
    });
    setErrors({});
    setMessage(null);
    setFormKey((k) => k + 1);
    document.getElementById("rule-name")?.focus();
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!saveRule) return;
    const form = new FormData(event.currentTarget);
    const checked = alertRuleSchema.safeParse(Object.fromEntries(form));
    if (!checked.success) {
      setErrors(fieldErrorsOf(checked.error));
      setMessage({ ok: false, text: "Correct the marked fields." });
      return;
    }
    setPending(true);
    const result = await saveRule(form).catch(
      (error: Error): ActionResult<{ ruleId: string }> => ({
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
    setDraft(EMPTY);
    setFormKey((k) => k + 1);
    refresh();
  }

  const rules = query.data;
  const describedBy = (field: string) => (errors[field] ? `rule-${field}-error` : undefined);
  return (
    <>
      <section className="panel" aria-labelledby="rules-title">
        <h2 id="rules-title">Rules</h2>
        {rules.length === 0 ? (
          <p className="muted">
            No rule yet.{" "}
            {saveRule
              ? "Add one below to raise alerts from a metric."
              : "An operator can add rules."}
          </p>
        ) : (
          <div className="table-wrap">
            <table data-testid="rule-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Condition</th>
                  <th scope="col">For</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Enabled</th>
                  <th scope="col">Pending since</th>
                  {saveRule && <th scope="col">Edit</th>}
                </tr>
              </thead>
              <tbody>
                {rules.map((rule) => (
                  <tr key={rule.id}>
                    <th scope="row">{rule.name}</th>
                    <td>
                      <code>
                        {rule.metric} {SYMBOLS[rule.comparator]} {rule.threshold}
                      </code>
                    </td>
                    <td>{rule.forSeconds} s</td>
                    <td>
                      <Badge value={rule.severity} />
                    </td>
                    <td>{rule.enabled ? "yes" : "no"}</td>
                    <td>{rule.pendingSince ? formatTime(rule.pendingSince) : "–"}</td>
                    {saveRule && (
                      <td>
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => edit(rule)}
                          aria-label={`Edit rule ${rule.name}`}
                        >
                          Edit
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {saveRule && (
        <form
          key={formKey}
          className="panel form"
          onSubmit={submit}
          noValidate
          aria-labelledby="rule-editor-title"
        >
          <h2 id="rule-editor-title">Rule editor</h2>
          <p className="muted">Saving a rule with an existing name replaces that rule.</p>
          <label htmlFor="rule-name">Name</label>
          <input
            id="rule-name"
            name="name"
            required
            defaultValue={draft.name}
            aria-describedby={describedBy("name")}
            aria-invalid={Boolean(errors.name)}
          />
          <FieldError id="rule-name-error" message={errors.name} />
          <div className="grid-3">
            <div>
              <label htmlFor="rule-metric">Metric</label>
              <input
                id="rule-metric"
                name="metric"
                required
                list="metric-names"
                defaultValue={draft.metric}
                aria-describedby={describedBy("metric")}
                aria-invalid={Boolean(errors.metric)}
              />
              <datalist id="metric-names">
                {metricNames.map((name) => (
                  <option key={name} value={name} />
                ))}
              </datalist>
              <FieldError id="rule-metric-error" message={errors.metric} />
            </div>
            <div>
              <label htmlFor="rule-comparator">Comparator</label>
              <select id="rule-comparator" name="comparator" defaultValue={draft.comparator}>
                {COMPARATOR_VALUES.map((c) => (
                  <option key={c} value={c}>
                    {c} ({SYMBOLS[c]})
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label htmlFor="rule-threshold">Threshold</label>
              <input
                id="rule-threshold"
                name="threshold"
                type="number"
                step="any"
                required
                defaultValue={draft.threshold}
                aria-describedby={describedBy("threshold")}
                aria-invalid={Boolean(errors.threshold)}
              />
              <FieldError id="rule-threshold-error" message={errors.threshold} />
            </div>
          </div>
          <div className="grid-3">
            <div>
              <label htmlFor="rule-severity">Severity</label>
              <select id="rule-severity" name="severity" defaultValue={draft.severity}>
                {SEVERITY_VALUES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label htmlFor="rule-for">For (seconds the condition must hold)</label>
              <input
                id="rule-for"
                name="forSeconds"
                type="number"
                min={0}
                required
                defaultValue={draft.forSeconds}
                aria-describedby={describedBy("forSeconds")}
                aria-invalid={Boolean(errors.forSeconds)}
              />
              <FieldError id="rule-forSeconds-error" message={errors.forSeconds} />
            </div>
            <div>
              <label className="inline" htmlFor="rule-enabled">
                <input
                  id="rule-enabled"
                  name="enabled"
                  type="checkbox"
                  defaultChecked={draft.enabled}
                />{" "}
                Enabled
              </label>
            </div>
          </div>
          <label htmlFor="rule-description">Description (optional)</label>
          <textarea
            id="rule-description"
            name="description"
            rows={2}
            maxLength={1000}
            defaultValue={draft.description}
          />
          {message && (
            <p role={message.ok ? "status" : "alert"} className={message.ok ? "ok" : "error"}>
              {message.text}
            </p>
          )}
          <p className="button-row">
            <button type="submit" disabled={pending}>
              {pending ? "Saving…" : "Save rule"}
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setDraft(EMPTY);
                setErrors({});
                setFormKey((k) => k + 1);
              }}
            >
              Clear
            </button>
          </p>
        </form>
      )}
    </>
  );
}
