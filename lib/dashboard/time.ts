/** Date helpers for the JSON that pages and route handlers share. */

/** Returns the ISO 8601 text of a date, or null. */
export function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}

/** Returns the ISO 8601 text of a date that the schema guarantees. */
export function isoRequired(date: Date): string {
  return date.toISOString();
}
