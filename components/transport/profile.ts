import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/**
 * Where a command's time goes, for the benchmarks: phases are timed only when TRUSTED_ROOTS_PROFILE names a file,
 * and written there as JSON when the process exits. Otherwise every call is a plain call.
 */
const PROFILE_FILE = process.env.TRUSTED_ROOTS_PROFILE;
const phases = new Map<string, number[]>();

export interface PhaseTimes {
  count: number;
  totalMs: number;
  medianMs: number;
  maxMs: number;
}

/** One resource operation a provider carried out for the engine, on the wall clock (ms since the epoch). */
export interface TimedOperation {
  urn: string;
  operation: "create" | "update" | "delete";
  startMs: number;
  endMs: number;
}

export interface Profile {
  /** From the process's start: node's own bootstrap, then loading and running the modules up to the command. */
  startup: { bootstrapMs: number; modulesMs: number };
  wallMs: number;
  phases: Record<string, PhaseTimes>;
  operations: TimedOperation[];
}

/** The phases a process times, by the names its profile keys them under (the benchmark reads them back). */
export const PHASES = {
  readInventory: "read the inventory and its roots",
  connect: "ssh connect (TCP, key exchange, host key, auth)",
  observe: "observe script (sent, run on the host, output back)",
  parseObservation: "parse the observation",
  compare: "compare with the declarations",
  plan: "plan",
  apply: "apply script (write, refresh, observe again on the host)",
  parseApply: "parse the apply's output",
  verify: "verify the apply",
  reload: "reload nginx",
} as const;
type PhaseName = (typeof PHASES)[keyof typeof PHASES];

let startup: Profile["startup"] | undefined;
const operations: TimedOperation[] = [];

function record(name: string, ms: number): void {
  const times = phases.get(name) ?? [];
  times.push(ms);
  phases.set(name, times);
}

/** Called where a command starts its work: what came before is start-up. */
export function markCommandStart(): void {
  if (!PROFILE_FILE || startup) return;
  const bootstrapMs = performance.nodeTiming.bootstrapComplete;
  startup = { bootstrapMs, modulesMs: performance.now() - bootstrapMs };
}

export async function timedPhase<T>(name: PhaseName, work: () => Promise<T>): Promise<T> {
  if (!PROFILE_FILE) return work();
  const started = performance.now();
  try {
    return await work();
  } finally {
    record(name, performance.now() - started);
  }
}

export function timedPhaseSync<T>(name: PhaseName, work: () => T): T {
  if (!PROFILE_FILE) return work();
  const started = performance.now();
  try {
    return work();
  } finally {
    record(name, performance.now() - started);
  }
}

/** A provider's resource operation, timed when profiling (the engine benchmark's critical path reads them back). */
export async function timedOperation<T>(urn: string, operation: TimedOperation["operation"], work: () => Promise<T>): Promise<T> {
  if (!PROFILE_FILE) return work();
  const startMs = Date.now();
  try {
    return await work();
  } finally {
    operations.push({ urn, operation, startMs, endMs: Date.now() });
  }
}

function summary(times: number[]): PhaseTimes {
  const sorted = [...times].sort((a, b) => a - b);
  return { count: sorted.length, totalMs: sorted.reduce((sum, value) => sum + value, 0), medianMs: sorted[Math.floor(sorted.length / 2)], maxMs: sorted[sorted.length - 1] };
}

if (PROFILE_FILE) {
  process.on("exit", () => {
    const profile: Profile = {
      startup: startup ?? { bootstrapMs: performance.nodeTiming.bootstrapComplete, modulesMs: 0 },
      wallMs: performance.now(),
      phases: Object.fromEntries([...phases].map(([name, times]) => [name, summary(times)])),
      operations,
    };
    writeFileSync(PROFILE_FILE, JSON.stringify(profile, null, 2));
  });
  // The engine stops a provider plugin with a signal, whose default action skips the exit handlers (without these
  // two, a provider wrote no profile).
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(signal === "SIGINT" ? 130 : 143));
}
