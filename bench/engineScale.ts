// `npm run bench:engine`: what the Pulumi engine costs as the fleet grows. For each N (ENGINE_SIZES, default
// 10,100,1000) a fresh stack declares N servers from an inventory file (a config that size cannot go through
// the CLI's arguments), spread over 10 real lab hosts, and the real CLI runs preview, up (--parallel 10), a
// no-change preview and destroy; then the same program, config and backend once more against the engine's floor
// (bench/floorProvider.ts: the same plugin transport and schema, doing nothing). Prints and writes
// docs/performance-engine.md from the run: times, state size, dependency lists, our cost as a ratio of the
// floor. Not a test.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { sourceOrigin } from "./origin";
import { parseCertificates } from "../components/certificates";
import { fleetFromStackConfig } from "../components/program";
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
  const firstPreview = await seconds(() => stack.preview());
  const up = await seconds(() => stack.up({ parallel: PARALLEL }));
  const noChangePreview = await seconds(() => stack.preview({ expectNoChanges: true }));
  const deployment = (await stack.exportStack()).deployment as { resources?: StateResource[] };
  const resources = deployment.resources ?? [];
  const stateBytes = Buffer.byteLength(JSON.stringify(deployment));
  const dependencyBytes = resources.reduce(
    (sum, resource) => sum + Buffer.byteLength(JSON.stringify(resource.dependencies ?? [])) + Buffer.byteLength(JSON.stringify(resource.propertyDependencies ?? {})),
    0,
  );
  const maxDependencies = Math.max(...resources.map((resource) => (resource.dependencies ?? []).length));
  const destroy = await seconds(() => stack.destroy({ parallel: PARALLEL }));
  return { servers: count, checkpoints: skipCheckpoints ? "at the end" : "every step", resources: resources.length, firstPreview, up, noChangePreview, destroy, stateBytes, dependencyBytes, maxDependencies };
}

async function main(): Promise<void> {
  // Taken before the run: what was measured, not what the tree became meanwhile.
  const origin = sourceOrigin();
  const pki = new TestPki();
  const root = parseCertificates(pki.root("scale", "/CN=Scale Root", { key: "ec256" }).pem)[0];
  const lab = await Lab.start(LAB_HOSTS);
  const rows: { ours: Measured; floor: Measured }[] = [];
  try {
    for (const count of sizes) {
      const row = { ours: await measure(lab, count, root.pem, "ours"), floor: await measure(lab, count, root.pem, "floor") };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  } finally {
    await lab.stop();
  }
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
  const perServer = (row: Measured) => row.stateBytes / row.servers / 1000;
  const phases = [
    ["preview (new stack)", (row: Measured) => row.firstPreview],
    ["up", (row: Measured) => row.up],
    ["preview (no changes)", (row: Measured) => row.noChangePreview],
    ["destroy", (row: Measured) => row.destroy],
  ] as const;
  const verdict = (ratio: number, target: number) => `${ratio.toFixed(2)} ${ratio <= target ? "met" : "**missed**"}`;
  const document = `# Engine cost by fleet size

Generated by \`npm run bench:engine\` (bench/engineScale.ts) from ${origin} at ${new Date().toISOString()} on ${cpus().length} cores
(${cpus()[0]?.model}), from that run only. Each N: a fresh stack (local file backend) declaring N servers from an
inventory file, spread over ${LAB_HOSTS} real lab hosts (servers share hosts; each server's store is its own
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

| target | ${rows.map(({ ours }) => `N = ${ours.servers}`).join(" | ")} |
|---|${rows.map(() => "---").join("|")}|
${phases.map(([name, of]) => `| ${name} at most ${FLOOR_RATIO_TARGET}x the floor | ${rows.map(({ ours, floor }) => verdict(of(ours) / of(floor), FLOOR_RATIO_TARGET)).join(" | ")} |`).join("\n")}
| state per server at most ${STATE_PER_SERVER_TARGET_KB} KB (KB) | ${rows.map(({ ours }) => verdict(perServer(ours), STATE_PER_SERVER_TARGET_KB)).join(" | ")} |
| state per server over the floor's (KB) | ${rows.map(({ ours, floor }) => (perServer(ours) - perServer(floor)).toFixed(1)).join(" | ")} |
`;
  writeFileSync(join(ROOT, "docs/performance-engine.md"), document);
  console.log("docs/performance-engine.md written");
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
