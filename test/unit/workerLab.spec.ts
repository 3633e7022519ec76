import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { DEFAULT_LAB } from "../support/lab";

const LAB_MODULE = resolve(__dirname, "../support/lab.js");
const LAB_KEYS = ["TRL_LAB_PREFIX", "TRL_LAB_SUBNET", "TRL_LAB_DIR", "TRL_LAB_WORKER"] as const;
type LabEnv = Partial<Record<(typeof LAB_KEYS)[number], string>>;

/** The lab a node process that loads test/support/lab.ts ends up with, started with `env`. */
function labOf(env: NodeJS.ProcessEnv): LabEnv {
  const probe = `require(${JSON.stringify(LAB_MODULE)}); console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(LAB_KEYS)}.map((key) => [key, process.env[key]]))))`;
  return JSON.parse(execFileSync(process.execPath, ["-e", probe], { env, encoding: "utf8" })) as LabEnv;
}

describe("each mocha worker's lab", () => {
  // This process may itself be a worker: start from the base lab, not from its own.
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...DEFAULT_LAB };

  it("workers get labs of their own, apart from the base lab", () => {
    const labs = ["0", "1"].map((worker) => labOf({ ...base, MOCHA_WORKER_ID: worker }));
    assert.deepEqual(labs, [
      { TRL_LAB_PREFIX: "trl0", TRL_LAB_SUBNET: "10.214.0", TRL_LAB_DIR: "/var/tmp/trusted-roots-lab-0", TRL_LAB_WORKER: "0" },
      { TRL_LAB_PREFIX: "trl1", TRL_LAB_SUBNET: "10.215.0", TRL_LAB_DIR: "/var/tmp/trusted-roots-lab-1", TRL_LAB_WORKER: "1" },
    ]);
  });

  it("a process a worker starts (the demo) stays on its worker's lab instead of moving onto the next worker's", () => {
    const worker0 = labOf({ ...base, MOCHA_WORKER_ID: "0" });
    // What the demo spec's `node scripts/demo.js` inherits: the worker's id and its lab, already derived.
    const demo = labOf({ ...base, ...worker0, MOCHA_WORKER_ID: "0" });
    assert.deepEqual(demo, worker0, "worker 0's demo took worker 1's subnet (10.215.0) before the fix");
  });
});
