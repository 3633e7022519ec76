import { strict as assert } from "node:assert";
import { stepTimes } from "../../bench/criticalPath";
import type { TimedOperation } from "../../components/transport";

const step = (urn: string, startMs: number, endMs: number, operation: TimedOperation["operation"] = "create"): TimedOperation => ({ urn, operation, startMs, endMs });

describe("the engine benchmark's bounds from a provider's timed steps", () => {
  // a (2 s) -> gate (component, untimed) -> b (5 s) and c (1 s) -> d (3 s, waits for both)
  const resources = [
    { urn: "a" },
    { urn: "gate", dependencies: ["a"] },
    { urn: "b", dependencies: ["gate"] },
    { urn: "c", dependencies: ["gate"] },
    { urn: "d", dependencies: ["b", "c"] },
  ];

  it("follows the slowest chain through untimed resources and adds up every step", () => {
    const times = stepTimes([step("a", 0, 2000), step("b", 2000, 7000), step("c", 2000, 3000), step("d", 7000, 10000)], resources);
    assert.deepEqual(times, { summedSeconds: 11, criticalPathSeconds: 10, criticalPathSteps: 3, slowestStepSeconds: 5 });
  });

  it("counts a resource's several operations (a create, then an update) as one longer step", () => {
    const times = stepTimes([step("a", 0, 2000), step("c", 0, 1000), step("c", 1000, 7000, "update"), step("d", 0, 3000)], resources);
    assert.equal(times.criticalPathSeconds, 2 + 7 + 3);
    assert.equal(times.criticalPathSteps, 3);
  });

  it("is all zeros for a provider that did no step", () => {
    assert.deepEqual(stepTimes([], resources), { summedSeconds: 0, criticalPathSeconds: 0, criticalPathSteps: 0, slowestStepSeconds: 0 });
  });
});
