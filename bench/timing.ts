// Timing for the benchmarks: medians of an odd number of runs (at least 3), with min and max beside them.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

export interface Timing {
  median: number;
  min: number;
  max: number;
  runs: number;
  all: number[];
}

/** How many runs per measurement: from the environment, odd and at least 3, so the median is a real run. */
export function runsFrom(variable: string, fallback: number): number {
  const runs = Number(process.env[variable] ?? fallback);
  if (!Number.isInteger(runs) || runs < 3 || runs % 2 === 0) {
    throw new Error(`${variable}=${process.env[variable]}: give an odd number of runs, at least 3 (the median of an even count is no run)`);
  }
  return runs;
}

export function timing(values: number[]): Timing {
  if (values.length % 2 === 0) throw new Error(`internal: ${values.length} runs; a median needs an odd count`);
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[(sorted.length - 1) / 2], min: sorted[0], max: sorted[sorted.length - 1], runs: values.length, all: values };
}

export async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Times `work` `runs` times; `reset` (untimed) runs before each. */
export async function repeat(runs: number, work: () => Promise<unknown>, reset?: () => Promise<unknown>): Promise<Timing> {
  const values: number[] = [];
  for (let index = 0; index < runs; index++) {
    if (reset) await reset();
    values.push(await seconds(work));
  }
  return timing(values);
}

export const show = (t: Timing) => `${t.median.toFixed(2)} s (${t.min.toFixed(2)}-${t.max.toFixed(2)}, n=${t.runs})`;

/** `ssh HOST COMMAND` to every address, `concurrency` at a time, with the lab's ssh_config: one process per host. */
export async function sshFanOut(addresses: readonly string[], sshConfig: string, command: string, concurrency: number): Promise<void> {
  await promisify(execFile)("sh", ["-c", `printf '%s\\n' "$1" | xargs -P ${concurrency} -I{} ssh -F "$2" {} "$3"`, "sh", addresses.join("\n"), sshConfig, command]);
}
