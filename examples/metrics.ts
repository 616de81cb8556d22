/**
 * Metrics on PostgreSQL with MetricsCollector: twenty samples of five system metrics recorded one
 * simulated minute apart, then read back with getMetricHistory, raw and downsampled, and with
 * getLatestValues.
 *
 * The samples carry explicit timestamps over the last twenty minutes instead of waiting between
 * them. Their values come from a seeded generator, in which anomalies grow with CPU load.
 *
 * Success: each history returns the twenty recorded values in time order. The downsampled
 * history returns at most 5 buckets whose counts add up to 20 and whose averages match the raw
 * values. The latest value of each metric is its last sample.
 */
import { loadConfig } from "@/lib/config";
import { MetricsCollector } from "@/lib/monitoring/metrics";
import { createRandom } from "@/lib/random";
import {
  fixed,
  heading,
  isEntryPoint,
  runExample,
  SuccessChecks,
  withExampleDatabase,
} from "./support";

const SAMPLES = 20;
const INTERVAL_MS = 60_000;
const NAMES = [
  "cpu_usage_percent",
  "memory_usage_percent",
  "active_clients",
  "anomalies_detected",
  "auth_failures",
] as const;

type Sample = Record<(typeof NAMES)[number], number>;

function simulateActivity(random: ReturnType<typeof createRandom>): Sample {
  const cpu = 20 + random.next() * 40;
  const memory = 30 + random.next() * 40;
  return {
    cpu_usage_percent: cpu,
    memory_usage_percent: memory,
    active_clients: 7 + random.int(9),
    anomalies_detected: Math.max(0, Math.floor((cpu - 30) / 10)) + random.int(3),
    auth_failures: cpu > 50 ? random.int(4) : random.int(2),
  };
}

function average(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export async function main(): Promise<number> {
  const checks = new SuccessChecks();
  const random = createRandom(8);

  await withExampleDatabase(loadConfig(), async ({ prisma }) => {
    const collector = new MetricsCollector(prisma);

    heading("Record");
    const start = new Date(Date.now() - SAMPLES * INTERVAL_MS);
    const samples: Sample[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const sample = simulateActivity(random);
      const timestamp = new Date(start.getTime() + i * INTERVAL_MS);
      samples.push(sample);
      for (const name of NAMES) await collector.recordMetric(name, sample[name], timestamp);
      if (i % 5 === 0) {
        console.log(
          `  minute ${String(i).padStart(2)}: CPU ${fixed(sample.cpu_usage_percent, 1)}%, ` +
            `memory ${fixed(sample.memory_usage_percent, 1)}%, clients ${sample.active_clients}, ` +
            `anomalies ${sample.anomalies_detected}`,
        );
      }
    }
    console.log(`Recorded ${SAMPLES * NAMES.length} samples (${NAMES.length} metrics).`);

    heading("History");
    const end = new Date();
    for (const name of NAMES) {
      const history = await collector.getMetricHistory(name, start, end);
      const values = history.series.flatMap((s) => s.points.map((p) => p.value));
      const recorded = samples.map((s) => s[name]);
      console.log(
        `  ${name.padEnd(21)} ${values.length} points, average ${fixed(average(values), 2)}, ` +
          `min ${fixed(Math.min(...values), 2)}, max ${fixed(Math.max(...values), 2)}`,
      );
      checks.check(
        values.length === SAMPLES && values.every((v, i) => Math.abs(v - recorded[i]) < 1e-9),
        `${name} history returns the ${SAMPLES} recorded values in order`,
      );
    }

    const cpu = samples.map((s) => s.cpu_usage_percent);
    const busy = samples.filter((s) => s.cpu_usage_percent > 50);
    const idle = samples.filter((s) => s.cpu_usage_percent <= 50);
    if (busy.length > 0 && idle.length > 0) {
      console.log(
        `\nAverage anomalies with CPU > 50%: ${fixed(average(busy.map((s) => s.anomalies_detected)), 2)} ` +
          `(${busy.length} samples); with CPU <= 50%: ` +
          `${fixed(average(idle.map((s) => s.anomalies_detected)), 2)} (${idle.length} samples)`,
      );
    }

    heading("Downsampled to 5 points");
    const coarse = await collector.getMetricHistory("cpu_usage_percent", start, end, {
      maxPoints: 5,
    });
    const buckets = coarse.series[0]?.points ?? [];
    for (const point of buckets) {
      console.log(
        `  ${point.timestamp.toISOString().slice(11, 19)} average ${fixed(point.value, 1)}% ` +
          `(min ${fixed(point.min, 1)}, max ${fixed(point.max, 1)}, ${point.count} samples)`,
      );
    }
    const counted = buckets.reduce((n, p) => n + p.count, 0);
    const weightedSum = buckets.reduce((sum, p) => sum + p.value * p.count, 0);
    checks.check(
      coarse.bucketMs !== null && buckets.length <= 5 && counted === SAMPLES,
      `downsampled history has at most 5 buckets covering all ${SAMPLES} samples`,
    );
    checks.check(
      Math.abs(weightedSum - cpu.reduce((a, b) => a + b, 0)) < 1e-6,
      "bucket averages add up to the raw values",
    );

    heading("Latest values");
    const latest = await collector.getLatestValues({ names: [...NAMES] });
    for (const value of latest) {
      console.log(`  ${value.name.padEnd(21)} ${fixed(value.value, 2)}`);
    }
    const last = samples[SAMPLES - 1];
    checks.check(
      latest.length === NAMES.length &&
        latest.every((v) => Math.abs(v.value - last[v.name as (typeof NAMES)[number]]) < 1e-9),
      "latest value of each metric is its last sample",
    );
  });

  return checks.finish();
}

if (isEntryPoint(import.meta.url)) void runExample(main);
