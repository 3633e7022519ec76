// `npm run demo`: the main job on an embedded local fleet. Starts three lab hosts (real sshd, nginx and
// Debian trust stores in network namespaces), makes a private CA with a client certificate, and runs the
// real program (index.ts) through the Pulumi engine: preview, up, the health check per host, then an
// "OS update" that drops the root on one host, detected by `preview --refresh --expect-no-changes` and
// repaired by `up --refresh`. Everything is torn down at the end unless --keep is given.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ConfigMap } from "@pulumi/pulumi/automation";
import { EngineProject, setStackConfig } from "../test/support/engine";
import { Lab, labUnavailableReason } from "../test/support/lab";
import { TestPki } from "../test/support/pki";

const INDEX = resolve(__dirname, "../index.js");
const keep = process.argv.includes("--keep");
const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const step = (text: string) => console.log(`\n${bold(`▶ ${text}`)}`);
const show = (text: string) => process.stdout.write(text.replace(/^/gm, "    "));

async function main(): Promise<void> {
  const unavailable = labUnavailableReason();
  if (unavailable) {
    console.error(`npm run demo: ${unavailable}. The demo builds real hosts in network namespaces: run it as root on Linux.`);
    process.exit(1);
  }
  step("Pulumi toolchain (built once from the Go module proxy, then cached)");
  const project = new EngineProject();
  console.log(`    pulumi (the trusted-roots plugin from bin/): ${project.env.PATH.split(":")[0]}`);

  step("Starting the local fleet: 3 hosts, each with sshd (pinned key), nginx requiring client certificates, its own trust store");
  const lab = await Lab.start(3);
  for (const host of lab.hosts) console.log(`    ${host.name}  ${host.address}  ${host.hostKey.slice(0, 40)}...`);
  try {
    step("A private CA (Contoso Root CA G2) and a client certificate it issued (alice)");
    const pki = new TestPki();
    const root = pki.root("contoso", "/O=Contoso/CN=Contoso Root CA G2");
    const alice = pki.issue("alice", "/CN=alice", root);
    const client = { cert: readFileSync(alice.certPath, "utf8"), key: readFileSync(alice.keyPath, "utf8") };
    mkdirSync(join(project.dir, "roots"));
    writeFileSync(join(project.dir, "roots/contoso.pem"), root.pem);
    writeFileSync(join(project.dir, "roots/alice.pem"), client.cert);
    writeFileSync(join(project.dir, "roots/lab-server-ca.pem"), lab.serverCa);
    for (const host of lab.hosts) console.log(`    ${host.name}: client certificate -> HTTP ${await lab.httpsStatus(host, client)} (not trusted yet)`);

    const values = {
      servers: lab.hosts.map((host) => ({ name: host.name, host: host.address, platform: "debian", hostKey: host.hostKey, groups: ["web"] })),
      rootSets: { contoso: { files: ["roots/contoso.pem"] } },
      groups: { web: { roots: ["contoso"] } },
      mode: "exact",
      rollout: { firstWave: 1, batchSize: 2 },
      defaults: {
        afterChange: { action: "restart", preset: "nginx" },
        healthCheck: { url: "https://{host}/", clientCertificateFile: "roots/alice.pem", caCertificateFile: "roots/lab-server-ca.pem", timeoutSeconds: 30 },
      },
    };
    const config: ConfigMap = Object.fromEntries(Object.entries(values).map(([key, value]) => [`trusted-roots:${key}`, { value: typeof value === "string" ? value : JSON.stringify(value) }]));
    config["trusted-roots:privateKey"] = { value: lab.clientKey, secret: true };
    config["trusted-roots:healthClientKey"] = { value: client.key, secret: true };

    // index.ts itself, run inline (no language host needed); a fresh module per run registers its resources.
    process.env.PULUMI_NODEJS_ROOT_DIRECTORY = project.dir;
    const program = async () => {
      delete require.cache[require.resolve(INDEX)];
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program module, loaded per run
      const exported = require(INDEX) as () => Promise<Record<string, unknown>>;
      // What the Node language host does with a program that exports a function: call it and await it.
      return exported();
    };
    const stack = await project.stack("demo", program);
    await setStackConfig(stack, config);
    console.log(`    stack "demo", config in ${join(project.dir, "Pulumi.demo.yaml")}`);

    step("pulumi preview");
    await stack.preview({ onOutput: show });
    step("pulumi up (waves: h1 first as a canary, then h2 and h3; nginx reloads only where the store changed)");
    const up = await stack.up({ onOutput: show });
    step("Result per host");
    for (const entry of up.outputs.report.value as { server: string; status: string; imported: string[] }[]) {
      const host = lab.hosts.find((candidate) => candidate.name === entry.server)!;
      console.log(`    ${entry.server}: ${entry.status}, imported ${JSON.stringify(entry.imported)}, client certificate -> HTTP ${await lab.settledHttpsStatus(host, client, 200)}`);
    }

    const victim = lab.hosts[1];
    step(`An OS update on ${victim.name} silently drops the private root (anchor deleted, update-ca-certificates --fresh, nginx reloaded)`);
    await lab.sh(victim, "rm -f /usr/local/share/ca-certificates/trusted-roots-*.crt && update-ca-certificates --fresh >/dev/null && nginx -s reload");
    console.log(`    ${victim.name}: client certificate -> HTTP ${await lab.settledHttpsStatus(victim, client, 400)} (clients locked out)`);

    step("Drift detection: pulumi preview --refresh --expect-no-changes");
    try {
      await stack.preview({ refresh: true, expectNoChanges: true, diff: true, onOutput: show });
      throw new Error("preview --refresh --expect-no-changes found no drift, though the root was removed from " + victim.name);
    } catch (error) {
      // Only the engine's own verdict counts as drift; any other failure ends the demo.
      const message = (error as Error).message;
      if (!/no changes were expected/.test(message)) throw error;
      const drifted = lab.hosts.filter((host) => new RegExp(`\\b${host.name}-root\\b`).test(message)).map((host) => host.name);
      console.log(`    drift detected on ${drifted.join(", ")}: the preview failed as a pipeline would`);
    }

    step("Repair: pulumi up --refresh (only the drifted host changes and reloads)");
    const repair = await stack.up({ refresh: true, onOutput: show });
    console.log(`    changes: ${JSON.stringify(repair.summary.resourceChanges)}`);
    console.log(`    ${victim.name}: client certificate -> HTTP ${await lab.settledHttpsStatus(victim, client, 200)}`);

    if (keep) {
      console.log(`\n--keep: the fleet and the stack stay. Project: ${project.dir}; lab: bash test/lab/labctl.sh status / down`);
      return;
    }
    step("Tearing down: pulumi destroy (removes the managed roots), then the lab");
    await stack.destroy({ onOutput: show });
  } finally {
    if (!keep) await lab.stop();
  }
  console.log("\ndone");
}

main().catch((error: unknown) => {
  console.error(`\ndemo failed: ${(error as Error).message}`);
  process.exit(1);
});
