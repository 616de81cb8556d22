"use client";
/**
 * The form that creates a federation. It checks its values with the same zod schema as the server
 * action, shows each error beside its field, and opens the new federation when it is created.
 */
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import type { ActionResult } from "@/lib/dashboard/server-action";
import {
  AGGREGATION_RULE_VALUES,
  CLIPPING_VALUES,
  createFederationSchema,
  type FieldErrors,
  fieldErrorsOf,
} from "@/lib/validations/dashboard";
import { FieldError } from "../ui/field-error";

export interface FederationDefaults {
  plannedRounds: number;
  minClients: number;
  roundTimeoutSeconds: number;
  aggregationRule: string;
  clipping: string;
  anomalyThreshold: number;
}

export function FederationForm({
  defaults,
  createFederation,
}: {
  defaults: FederationDefaults;
  createFederation: (form: FormData) => Promise<ActionResult<{ federationId: string }>>;
}) {
  const router = useRouter();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const [clipping, setClipping] = useState(defaults.clipping);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const checked = createFederationSchema.safeParse(Object.fromEntries(form));
    if (!checked.success) {
      setErrors(fieldErrorsOf(checked.error));
      setFormError("Correct the marked fields.");
      return;
    }
    setPending(true);
    setErrors({});
    setFormError(null);
    const result = await createFederation(form).catch(
      (error: Error): ActionResult<{ federationId: string }> => ({
        ok: false,
        status: 0,
        error: `the request failed: ${error.message}`,
      }),
    );
    setPending(false);
    if (!result.ok) {
      setErrors(result.fieldErrors ?? {});
      setFormError(result.error);
      return;
    }
    router.push(`/federations/${result.data.federationId}`);
  }

  const describedBy = (field: string) => (errors[field] ? `${field}-error` : undefined);
  return (
    <form className="panel form" onSubmit={submit} noValidate aria-label="Create a federation">
      <label htmlFor="name">Name</label>
      <input
        id="name"
        name="name"
        required
        maxLength={100}
        aria-describedby={describedBy("name")}
        aria-invalid={Boolean(errors.name)}
      />
      <FieldError id="name-error" message={errors.name} />

      <fieldset>
        <legend>Model</legend>
        <label className="inline">
          <input type="radio" name="architecture" value="mlp" defaultChecked /> mlp: 784-128-10
          dense network
        </label>
        <label className="inline">
          <input type="radio" name="architecture" value="dense_dropout" /> dense_dropout:
          784-128-64-10 with dropout 0.2
        </label>
      </fieldset>

      <div className="grid-3">
        <div>
          <label htmlFor="plannedRounds">Planned rounds</label>
          <input
            id="plannedRounds"
            name="plannedRounds"
            type="number"
            min={1}
            max={1000}
            required
            defaultValue={defaults.plannedRounds}
            aria-describedby={describedBy("plannedRounds")}
            aria-invalid={Boolean(errors.plannedRounds)}
          />
          <FieldError id="plannedRounds-error" message={errors.plannedRounds} />
        </div>
        <div>
          <label htmlFor="minClients">Clients per round (quorum)</label>
          <input
            id="minClients"
            name="minClients"
            type="number"
            min={1}
            required
            defaultValue={defaults.minClients}
            aria-describedby={describedBy("minClients")}
            aria-invalid={Boolean(errors.minClients)}
          />
          <FieldError id="minClients-error" message={errors.minClients} />
        </div>
        <div>
          <label htmlFor="roundTimeoutSeconds">Round timeout (seconds)</label>
          <input
            id="roundTimeoutSeconds"
            name="roundTimeoutSeconds"
            type="number"
            min={5}
            required
            defaultValue={defaults.roundTimeoutSeconds}
            aria-describedby={describedBy("roundTimeoutSeconds")}
            aria-invalid={Boolean(errors.roundTimeoutSeconds)}
          />
          <FieldError id="roundTimeoutSeconds-error" message={errors.roundTimeoutSeconds} />
        </div>
      </div>

      <div className="grid-3">
        <div>
          <label htmlFor="aggregationRule">Aggregation rule</label>
          <select
            id="aggregationRule"
            name="aggregationRule"
            defaultValue={defaults.aggregationRule}
          >
            {AGGREGATION_RULE_VALUES.map((rule) => (
              <option key={rule} value={rule}>
                {rule}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="clipping">Norm clipping</label>
          <select
            id="clipping"
            name="clipping"
            value={clipping}
            onChange={(e) => setClipping(e.target.value)}
          >
            {CLIPPING_VALUES.map((mode) => (
              <option key={mode} value={mode}>
                {mode}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="maxNorm">Maximum norm (fixed clipping)</label>
          <input
            id="maxNorm"
            name="maxNorm"
            type="number"
            step="any"
            min={0}
            disabled={clipping !== "fixed"}
            aria-describedby={describedBy("maxNorm")}
            aria-invalid={Boolean(errors.maxNorm)}
          />
          <FieldError id="maxNorm-error" message={errors.maxNorm} />
        </div>
      </div>

      <label htmlFor="anomalyThreshold">Detection threshold (anomaly score, 0 to 1)</label>
      <input
        id="anomalyThreshold"
        name="anomalyThreshold"
        type="number"
        step="0.005"
        min={0.01}
        max={0.99}
        required
        defaultValue={defaults.anomalyThreshold}
        aria-describedby={describedBy("anomalyThreshold")}
        aria-invalid={Boolean(errors.anomalyThreshold)}
      />
      <FieldError id="anomalyThreshold-error" message={errors.anomalyThreshold} />

      {formError && (
        <p role="alert" className="error">
          {formError}
        </p>
      )}
      <p>
        <button type="submit" disabled={pending}>
          {pending ? "Creating…" : "Create federation"}
        </button>
      </p>
    </form>
  );
}
