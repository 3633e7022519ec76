import type { TimedOperation } from "../components/transport";

/** A resource in an exported deployment: its URN and the URNs it waits for. */
export interface DeployedResource {
  urn: string;
  dependencies?: string[];
}

/** What a provider's own steps cost one engine operation (up or destroy), from the provider's timed operations. */
export interface StepTimes {
  /** Every step's time added up: at --parallel P the engine needs at least summed / P for them. */
  summedSeconds: number;
  /** The longest chain of steps that wait on each other (through the state's dependencies): no parallelism shortens it. */
  criticalPathSeconds: number;
  /** How many timed steps that chain holds. */
  criticalPathSteps: number;
  slowestStepSeconds: number;
}

/**
 * The bounds our steps put on an engine operation, measured: the steps' sum and the critical path through the
 * dependency graph (a destroy walks the same chains backwards, so the same path bounds it).
 */
export function stepTimes(operations: readonly TimedOperation[], resources: readonly DeployedResource[]): StepTimes {
  const secondsOf = new Map<string, number>();
  for (const { urn, startMs, endMs } of operations) secondsOf.set(urn, (secondsOf.get(urn) ?? 0) + (endMs - startMs) / 1000);
  const dependenciesOf = new Map(resources.map((resource) => [resource.urn, resource.dependencies ?? []]));
  const longest = new Map<string, { seconds: number; steps: number }>();
  const pathTo = (urn: string, visiting: Set<string>): { seconds: number; steps: number } => {
    const known = longest.get(urn);
    if (known) return known;
    if (visiting.has(urn)) throw new Error(`internal: a dependency cycle through ${urn}`);
    visiting.add(urn);
    let before = { seconds: 0, steps: 0 };
    for (const dependency of dependenciesOf.get(urn) ?? []) {
      const path = pathTo(dependency, visiting);
      if (path.seconds > before.seconds) before = path;
    }
    visiting.delete(urn);
    const own = secondsOf.get(urn);
    const path = own === undefined ? before : { seconds: before.seconds + own, steps: before.steps + 1 };
    longest.set(urn, path);
    return path;
  };
  let critical = { seconds: 0, steps: 0 };
  for (const urn of new Set([...dependenciesOf.keys(), ...secondsOf.keys()])) {
    const path = pathTo(urn, new Set());
    if (path.seconds > critical.seconds) critical = path;
  }
  const all = [...secondsOf.values()];
  return {
    summedSeconds: all.reduce((sum, value) => sum + value, 0),
    criticalPathSeconds: critical.seconds,
    criticalPathSteps: critical.steps,
    slowestStepSeconds: Math.max(0, ...all),
  };
}
