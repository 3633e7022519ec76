// `npm run bench:engine`: what the Pulumi engine costs as the fleet grows. For each N (ENGINE_SIZES, default
// 10,100,1000) a fresh stack declares N servers from an inventory file (a config that size cannot go through
// the CLI's arguments), spread over 10 real lab hosts, and the real CLI runs preview, up (--parallel 10), a
// no-change preview and destroy; then the same program, config and backend once more against the engine's floor
// (bench/floorProvider.ts: the same plugin transport and schema, doing nothing). Prints and writes
// docs/performance-engine.md from the run: times, state size, dependency lists, our cost as a ratio of the
// floor. Not a test.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, relative, resolve } from "node:path";
import { stringify } from "yaml";
import { stepTimes, type StepTimes } from "./criticalPath";
import { sourceOrigin } from "./origin";
import { renderSaved, saveRun, type Report } from "./results";
import { parseCertificates } from "../components/certificates";
import { fleetFromStackConfig } from "../components/program";
import type { Profile, TimedOperation } from "../components/transport";
import { EngineProject, setStackConfig } from "../test/support/engine";
import { Lab } from "../test/support/lab";
import { TestPki } from "../test/support/pki";
import { seconds } from "./timing";

const ROOT = resolve(__dirname, "../..");
const sizes = (process.env.ENGINE_SIZES ?? "10,100,1000").split(",").map(Number);
const LAB_HOSTS = 10;
// From this size on the file backend writes the state once at the end (PULUMI_SKIP_CHECKPOINTS), as the README
// advises for large fleets: rewriting a 10 MB state after each of thousands of steps does not finish.
const SKIP_CHECKPOINTS_FROM = Number(process.env.ENGINE_SKIP_CHECKPOINTS_FROM ?? 1000);
const PARALLEL = 10;
/** Where the floor provider's plugin binary is: put first on PATH, it serves the trusted-roots package instead. */
const FLOOR_BIN = join(ROOT, "bench/floor-bin");
/** The targets of issue #25: our cost at most this times the engine's floor, and this much state per server. */
const FLOOR_RATIO_TARGET = 1.3;
const STATE_PER_SERVER_TARGET_KB = 5;
type Provider = "ours" | "floor";
type Measured = Awaited<ReturnType<typeof measure>>;

interface StateResource {
  urn: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
}

async function measure(lab: Lab, count: number, rootPem: string, provider: Provider) {
  const project = new EngineProject(provider === "floor" ? [FLOOR_BIN] : []);
  mkdirSync(join(project.dir, "roots"));
  writeFileSync(join(project.dir, "roots/bench.pem"), rootPem);
  const servers = Array.from({ length: count }, (_, index) => {
    const host = lab.hosts[index % lab.hosts.length];
    return { name: `s${index}`, host: host.address, platform: "debian", hostKey: host.hostKey, groups: ["web"] };
  });
  writeFileSync(join(project.dir, "servers.yaml"), stringify({ servers }));
  const skipCheckpoints = count >= SKIP_CHECKPOINTS_FROM;
  const stack = await project.stack("scale", async () => ({ servers: (await fleetFromStackConfig(project.dir)).servers.length }), skipCheckpoints ? { PULUMI_SKIP_CHECKPOINTS: "true" } : {});
  await setStackConfig(stack, {
    "trusted-roots:inventory": { value: "servers.yaml" },
    "trusted-roots:rootSets": { value: JSON.stringify({ bench: { files: ["roots/bench.pem"] } }) },
    "trusted-roots:groups": { value: JSON.stringify({ web: { roots: ["bench"] } }) },
    "trusted-roots:defaults": { value: JSON.stringify({ afterChange: { action: "restart", preset: "nginx" } }) },
    "trusted-roots:privateKey": { value: lab.clientKey, secret: true },
  });
  // Our provider times each resource operation it carries out (TRUSTED_ROOTS_PROFILE, a Date.now() pair per step):
  // the bounds in the report. The floor's steps do nothing, so it is not asked.
  const profiled = async (operation: string, work: () => Promise<unknown>): Promise<{ seconds: number; operations: TimedOperation[] }> => {
    const file = join(project.dir, `profile-${operation}.json`);
    if (provider === "ours") stack.workspace.envVars.TRUSTED_ROOTS_PROFILE = file;
    try {
      const took = await seconds(work);
      return { seconds: took, operations: provider === "ours" ? (JSON.parse(readFileSync(file, "utf8")) as Profile).operations : [] };
    } finally {
      delete stack.workspace.envVars.TRUSTED_ROOTS_PROFILE;
    }
  };
  const firstPreview = await seconds(() => stack.preview());
  const up = await profiled("up", () => stack.up({ parallel: PARALLEL }));
  const noChangePreview = await seconds(() => stack.preview({ expectNoChanges: true }));
  const deployment = (await stack.exportStack()).deployment as { resources?: StateResource[] };
  const resources = deployment.resources ?? [];
  const stateBytes = Buffer.byteLength(JSON.stringify(deployment));
  const dependencyBytes = resources.reduce(
    (sum, resource) => sum + Buffer.byteLength(JSON.stringify(resource.dependencies ?? [])) + Buffer.byteLength(JSON.stringify(resource.propertyDependencies ?? {})),
    0,
  );
  const maxDependencies = Math.max(...resources.map((resource) => (resource.dependencies ?? []).length));
  const destroy = await profiled("destroy", () => stack.destroy({ parallel: PARALLEL }));
  return {
    servers: count,
    checkpoints: skipCheckpoints ? "at the end" : "every step",
    resources: resources.length,
    firstPreview,
    up: up.seconds,
    noChangePreview,
    destroy: destroy.seconds,
    stateBytes,
    dependencyBytes,
    maxDependencies,
    steps: { up: stepTimes(up.operations, resources), destroy: stepTimes(destroy.operations, resources) },
  };
}

interface EngineResults {
  generatedAt: string;
  origin: string;
  machine: { cores: number; cpu: string };
  rows: { ours: Measured; floor: Measured }[];
}

async function main(): Promise<void> {
  if (process.argv[2] === "--render") return renderSaved(resolve(process.argv[3]), REPORT);
  // Taken before the run: what was measured, not what the tree became meanwhile.
  const origin = sourceOrigin();
  const pki = new TestPki();
  const root = parseCertificates(pki.root("scale", "/CN=Scale Root", { key: "ec256" }).pem)[0];
  const lab = await Lab.start(LAB_HOSTS);
  const rows: EngineResults["rows"] = [];
  try {
    for (const count of sizes) {
      const row = { ours: await measure(lab, count, root.pem, "ours"), floor: await measure(lab, count, root.pem, "floor") };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  } finally {
    await lab.stop();
  }
  const results: EngineResults = { generatedAt: new Date().toISOString(), origin, machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown" }, rows };
  saveRun("engine", results, REPORT);
}

const REPORT: Report<EngineResults> = { path: "docs/performance-engine.md", render: (results, file) => renderReport(results, file) };

function renderReport({ generatedAt, origin, machine, rows }: EngineResults, file: string): string {
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
  const perServer = (row: Measured) => row.stateBytes / row.servers / 1000;
  const phases: [string, (row: Measured) => number, ((row: Measured) => StepTimes)?][] = [
    ["preview (new stack)", (row) => row.firstPreview],
    ["up", (row) => row.up, (row) => row.steps.up],
    ["preview (no changes)", (row) => row.noChangePreview],
    ["destroy", (row) => row.destroy, (row) => row.steps.destroy],
  ];
  const verdict = (ratio: number, target: number) => `${ratio.toFixed(2)} ${ratio <= target ? "met" : "**missed**"}`;
  // What holds a missed target up, from the same run: the floor plus our steps, either the chain of them nothing
  // can overlap or their sum spread over --parallel, whichever is longer.
  const stepBound = (floorSeconds: number, oursSeconds: number, steps: StepTimes) => {
    const spread = steps.summedSeconds / PARALLEL;
    return (
      `ours ${oursSeconds.toFixed(1)} s; the floor ${floorSeconds.toFixed(1)} s + the longer of our steps' critical path ` +
      `${steps.criticalPathSeconds.toFixed(1)} s (${steps.criticalPathSteps} steps that wait on each other, the slowest ${steps.slowestStepSeconds.toFixed(1)} s) ` +
      `and all ${steps.summedSeconds.toFixed(0)} s of steps at --parallel ${PARALLEL} (${spread.toFixed(1)} s) = ${(floorSeconds + Math.max(steps.criticalPathSeconds, spread)).toFixed(1)} s`
    );
  };
  const bounds = (name: string, of: (row: Measured) => number, stepsOf?: (row: Measured) => StepTimes) =>
    rows
      .filter(({ ours, floor }) => of(ours) / of(floor) > FLOOR_RATIO_TARGET)
      .map(({ ours, floor }) => `N = ${ours.servers}: ${stepsOf ? stepBound(of(floor), of(ours), stepsOf(ours)) : "not measured (no host work in a " + name + ")"}`)
      .join("; ") || "—";
  const kb = (value: number) => (Math.abs(value) < 0.05 ? "0.0" : value.toFixed(1));
  const stateBound =
    `the floor's own state per server is ${rows.map(({ floor }) => kb(perServer(floor))).join(" / ")} KB (the engine's record of each ` +
    `resource's inputs, outputs and dependencies for the same declarations); ours adds ${rows.map(({ ours, floor }) => kb(perServer(ours) - perServer(floor))).join(" / ")} KB`;
  return `# Engine cost by fleet size

Generated by \`npm run bench:engine\` (bench/engineScale.ts) from ${origin} at ${generatedAt} on ${machine.cores} cores
(${machine.cpu}), from that run only; raw data in \`${relative(ROOT, file)}\`. Each N: a fresh stack (local file
backend) declaring N servers from an inventory file, spread over ${LAB_HOSTS} real lab hosts (servers share hosts; each server's store is its own
declaration in the host's manifest), one root, an nginx reload after a change, default waves of 25 %.
\`pulumi up --parallel ${PARALLEL}\`; times are wall-clock seconds of one run. From ${SKIP_CHECKPOINTS_FROM} servers on the
engine writes the state once at the end (\`PULUMI_SKIP_CHECKPOINTS=true\`) instead of after every step.

The floor: the same program, config, backend and number of resources against a provider plugin that does nothing
(bench/floorProvider.ts: the same schema and plugin transport; outputs are the inputs, no host is contacted). What
is above it is ours: SSH sessions and the stores' work in \`up\` and \`destroy\`, our outputs in the state.

| servers | provider | state written | resources | preview (new stack) | up | preview (no changes) | destroy | state | per server | of it dependency lists | most dependencies of one resource |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rows
  .flatMap(({ ours, floor }) => [["ours", ours], ["floor", floor]] as const)
  .map(([provider, row]) => `| ${row.servers} | ${provider} | ${row.checkpoints} | ${row.resources} | ${row.firstPreview.toFixed(1)} s | ${row.up.toFixed(1)} s | ${row.noChangePreview.toFixed(1)} s | ${row.destroy.toFixed(1)} s | ${mb(row.stateBytes)} | ${perServer(row).toFixed(1)} KB | ${mb(row.dependencyBytes)} | ${row.maxDependencies} |`)
  .join("\n")}

## Targets (ours / floor, from this run)

| target | ${rows.map(({ ours }) => `N = ${ours.servers}`).join(" | ")} | what bounds it (measured) |
|---|${rows.map(() => "---").join("|")}|---|
${phases.map(([name, of, stepsOf]) => `| ${name} at most ${FLOOR_RATIO_TARGET}x the floor | ${rows.map(({ ours, floor }) => verdict(of(ours) / of(floor), FLOOR_RATIO_TARGET)).join(" | ")} | ${bounds(name, of, stepsOf)} |`).join("\n")}
| state per server at most ${STATE_PER_SERVER_TARGET_KB} KB (KB) | ${rows.map(({ ours }) => verdict(perServer(ours), STATE_PER_SERVER_TARGET_KB)).join(" | ")} | ${stateBound} |

A step is one resource operation of our provider (a store's observe, write, refresh and verify; a restart with its
wait and handshake; a wave gate), timed by the provider itself in this run (\`TRUSTED_ROOTS_PROFILE\`). Two things
keep our steps from hiding behind the engine's own work: the critical path through the state's dependencies (the
rollout waves chain each wave's restarts after the one before; nothing can overlap them), and the steps' sum, of
which the engine runs at most ${PARALLEL} at a time. The bound is the floor plus the longer of the two.
`;
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
