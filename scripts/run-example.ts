/**
 * `npm run example -- <name>` runs one of the examples in examples/, and `--list` lists them.
 *
 * Exit codes: the example's own (0 when its success checks pass, 1 when one fails or it throws),
 * and 2 for a missing or unknown name. The library's JSON logs are limited to errors unless
 * LOG_LEVEL is set, so that the examples' plain-text output stays readable.
 */
import { EXAMPLES, findExample } from "@/examples";

function listExamples(): string {
  const width = Math.max(...EXAMPLES.map((e) => e.name.length));
  return EXAMPLES.map(
    (e) => `  ${e.name.padEnd(width)}  ${e.description}${e.needsDatabase ? " (PostgreSQL)" : ""}`,
  ).join("\n");
}

const USAGE = `Usage: npm run example -- <name>
       npm run example -- --list

Examples:
${listExamples()}

Examples marked PostgreSQL create a throwaway database on the server in DATABASE_URL, or on the
embedded server in the configured home folder (.qsfl), and drop it at the end.`;

const [argument, ...rest] = process.argv.slice(2);
if (argument === "--list") {
  console.log(listExamples());
  process.exit(0);
}
if (argument === "--help" || argument === "-h") {
  console.log(USAGE);
  process.exit(0);
}
const example = argument === undefined ? undefined : findExample(argument);
if (!example || rest.length > 0) {
  const problem =
    argument === undefined
      ? "missing example name"
      : example
        ? `unexpected arguments after "${argument}": ${rest.join(" ")}`
        : `unknown example "${argument}"`;
  console.error(`${problem}\n\n${USAGE}`);
  process.exit(2);
}

// The logger reads LOG_LEVEL when it is first imported, which the dynamic imports below do.
process.env.LOG_LEVEL ??= "error";
const { runExample } = await import("@/examples/support");
const { main } = await example.load();
console.log(`Example ${example.name}: ${example.description}`);
await runExample(main);
