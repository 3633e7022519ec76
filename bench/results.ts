// Where a benchmark run's raw data goes, and its report rendered from that data: one place for every benchmark.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "../..");

/** A generated report: its path in the repository and how it is rendered from a run's raw data (and that file). */
export interface Report<R> {
  path: string;
  render(results: R, file: string): string;
}

/** Writes bench/results/<kind>-<time>.json and the report from it; prints both paths. */
export function saveRun<R extends { generatedAt: string }>(kind: string, results: R, report: Report<R>): void {
  const resultsDir = join(ROOT, "bench/results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${kind}-${results.generatedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(join(ROOT, report.path), report.render(results, file));
  console.log(`results: ${file}\n${report.path} updated`);
}

/** `--render RESULTS.json`: the report again from a run's raw data (no new measurement). */
export function renderSaved<R>(file: string, report: Report<R>): void {
  writeFileSync(join(ROOT, report.path), report.render(JSON.parse(readFileSync(file, "utf8")) as R, file));
  console.log(`${report.path} rendered from ${file}`);
}
