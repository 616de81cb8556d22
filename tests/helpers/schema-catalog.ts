/**
 * Two descriptions of the same schema, as sorted lines that can be compared with toEqual: one from
 * prisma/schema.prisma (through Prisma's own schema parser, get_dmmf) and one read from a live
 * PostgreSQL catalog. A line names one fact: an enum, a column with type, nullability and default,
 * an index with its columns and uniqueness, or a foreign key with its actions.
 */
import { readFileSync } from "node:fs";
import { get_dmmf } from "@prisma/prisma-schema-wasm";
import pg from "pg";

interface DmmfField {
  name: string;
  kind: "scalar" | "object" | "enum";
  type: string;
  isRequired: boolean;
  isList: boolean;
  default?: unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}

interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}

interface DmmfIndex {
  model: string;
  type: "id" | "unique" | "normal" | "fulltext";
  dbName?: string | null;
  fields: { name: string }[];
}

interface Datamodel {
  enums: { name: string; values: { name: string }[] }[];
  models: DmmfModel[];
  indexes: DmmfIndex[];
}

const SCALAR_TYPES: Record<string, string> = {
  String: "text",
  Int: "integer",
  BigInt: "bigint",
  Float: "double precision",
  Boolean: "boolean",
  DateTime: "timestamp(3)",
  Json: "jsonb",
  Bytes: "bytea",
};

const ON_DELETE: Record<string, string> = {
  Cascade: "cascade",
  Restrict: "restrict",
  SetNull: "set null",
  NoAction: "no action",
  SetDefault: "set default",
};

export function readDatamodel(schemaPath = "prisma/schema.prisma"): Datamodel {
  const schema = readFileSync(schemaPath, "utf8");
  const dmmf = JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: [["schema.prisma", schema]] })));
  return dmmf.datamodel as Datamodel;
}

export function describeSchema(datamodel: Datamodel): string[] {
  const lines: string[] = [];
  for (const e of datamodel.enums)
    lines.push(`enum ${e.name} (${e.values.map((v) => v.name).join(", ")})`);
  for (const model of datamodel.models) {
    const table = model.dbName ?? model.name;
    lines.push(`table ${table}`);
    for (const field of model.fields) {
      if (field.kind === "object") {
        if (field.relationFromFields?.length) {
          const onDelete = field.relationOnDelete ?? (field.isRequired ? "Restrict" : "SetNull");
          lines.push(
            `foreign key ${table}(${field.relationFromFields.join(", ")}) -> ${field.type}(${(field.relationToFields ?? []).join(", ")}) on delete ${ON_DELETE[onDelete]} on update cascade`,
          );
        }
        continue;
      }
      const type = field.kind === "enum" ? field.type : SCALAR_TYPES[field.type];
      lines.push(
        `column ${table}.${field.name} ${type}${field.isList ? "[]" : ""} ${field.isRequired ? "not null" : "null"} default ${expectedDefault(field)}`,
      );
    }
  }
  for (const index of datamodel.indexes) {
    const columns = index.fields.map((f) => f.name);
    const suffix = index.type === "id" ? "pkey" : index.type === "unique" ? "key" : "idx";
    const name =
      index.dbName ??
      (index.type === "id"
        ? `${index.model}_pkey`
        : `${index.model}_${columns.join("_")}_${suffix}`);
    lines.push(
      `index ${name} on ${index.model}(${columns.join(", ")})${index.type === "normal" ? "" : index.type === "id" ? " primary" : " unique"}`,
    );
  }
  return lines.sort();
}

function expectedDefault(field: DmmfField): string {
  const value = field.default;
  if (value === undefined) return "none";
  if (typeof value === "object" && value !== null && "name" in value) {
    const name = (value as { name: string }).name;
    if (name === "now") return "now";
    if (name === "autoincrement") return "sequence";
    // uuid(), cuid() and friends are filled in by Prisma Client, not by the database.
    return "none";
  }
  return String(value);
}

export async function describeCatalog(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const lines: string[] = [];
    const enums = await client.query<{ name: string; values: string[] }>(`
      SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
      JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' GROUP BY t.typname`);
    for (const e of enums.rows) lines.push(`enum ${e.name} (${e.values.join(", ")})`);

    const tables = await client.query<{ table_name: string }>(`
      SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`);
    for (const t of tables.rows) lines.push(`table ${t.table_name}`);

    const columns = await client.query<{
      table_name: string;
      column_name: string;
      data_type: string;
      udt_name: string;
      is_nullable: string;
      column_default: string | null;
      datetime_precision: number | null;
    }>(`
      SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, datetime_precision
      FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`);
    for (const c of columns.rows) {
      let type = c.data_type;
      if (type === "USER-DEFINED") type = c.udt_name;
      if (type === "timestamp without time zone") type = `timestamp(${c.datetime_precision})`;
      if (type === "ARRAY") type = `${c.udt_name.replace(/^_/, "")}[]`;
      lines.push(
        `column ${c.table_name}.${c.column_name} ${type} ${c.is_nullable === "NO" ? "not null" : "null"} default ${catalogDefault(c.column_default)}`,
      );
    }

    const indexes = await client.query<{
      table_name: string;
      index_name: string;
      is_unique: boolean;
      is_primary: boolean;
      columns: string[];
      is_partial: boolean;
    }>(`
      SELECT t.relname AS table_name, i.relname AS index_name, ix.indisunique AS is_unique,
             ix.indisprimary AS is_primary, ix.indpred IS NOT NULL AS is_partial,
             array_agg(a.attname::text ORDER BY k.ord) AS columns
      FROM pg_index ix
      JOIN pg_class t ON t.oid = ix.indrelid
      JOIN pg_class i ON i.oid = ix.indexrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
      WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'
      GROUP BY t.relname, i.relname, ix.indisunique, ix.indisprimary, ix.indpred`);
    for (const i of indexes.rows) {
      const kind = i.is_primary ? " primary" : i.is_unique ? " unique" : "";
      lines.push(
        `index ${i.index_name} on ${i.table_name}(${i.columns.join(", ")})${kind}${i.is_partial ? " partial" : ""}`,
      );
    }

    const foreignKeys = await client.query<{
      table_name: string;
      ref_table: string;
      columns: string[];
      ref_columns: string[];
      on_delete: string;
      on_update: string;
    }>(`
      SELECT t.relname AS table_name, rt.relname AS ref_table, c.confdeltype AS on_delete,
             c.confupdtype AS on_update,
             (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
             (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS ref_columns
      FROM pg_constraint c
      JOIN pg_class t ON t.oid = c.conrelid
      JOIN pg_class rt ON rt.oid = c.confrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE c.contype = 'f' AND n.nspname = 'public'`);
    const actions: Record<string, string> = {
      a: "no action",
      r: "restrict",
      c: "cascade",
      n: "set null",
      d: "set default",
    };
    for (const f of foreignKeys.rows) {
      lines.push(
        `foreign key ${f.table_name}(${f.columns.join(", ")}) -> ${f.ref_table}(${f.ref_columns.join(", ")}) on delete ${actions[f.on_delete]} on update ${actions[f.on_update]}`,
      );
    }
    return lines.sort();
  } finally {
    await client.end();
  }
}

function catalogDefault(value: string | null): string {
  if (value === null) return "none";
  if (value === "CURRENT_TIMESTAMP") return "now";
  if (value.startsWith("nextval(")) return "sequence";
  // '{}'::jsonb, 'open'::"RoundStatus", 'fedavg'::text -> the literal between the quotes.
  const quoted = value.match(/^'(.*)'::[\w" ]+$/s);
  if (quoted) return quoted[1].replace(/''/g, "'");
  return value;
}
