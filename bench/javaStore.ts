// `npm run bench:java`: what a Java store costs per host, against the keytool wrapper its users would otherwise
// write (one `keytool -importcert` per root), on the same lab hosts in one run with equal work: every side starts
// from the same application truststore (an administrator's root in it) and ends with the same K roots added.
// Also our Root store's apply of the same roots, for what the Java store adds beside it. Writes
// bench/results/java-<time>.json and docs/java-performance.md. BENCH_JAVA_HOSTS (default 5), BENCH_REPEATS (odd,
// at least 3). Not a test: figures, not verdicts.
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseCertificates, type Certificate } from "../components/certificates";
import { converge, type StoreTarget } from "../components/store";
import { mapWithConcurrency } from "../components/transport";
import { Lab, type LabHost } from "../test/support/lab";
import { TestPki } from "../test/support/pki";
import { sourceOrigin } from "./origin";
import { saveRun } from "./results";
import { repeat, runsFrom, show, sshFanOut, type Timing } from "./timing";

const ROOT = resolve(__dirname, "../..");
const hostCount = Number(process.env.BENCH_JAVA_HOSTS ?? 5);
const repeats = runsFrom("BENCH_REPEATS", 3);
const ROOT_COUNTS = [1, 10];
const TRUSTSTORE = "/etc/trl-lab/bench-truststore.p12";
const PRISTINE = "/etc/trl-lab/bench-truststore.pristine";
const PASSWORD = "bench-truststore-pass";
const JAVA_STATE = "/var/lib/trusted-roots/java";

interface Row {
  roots: number;
  ours: Timing;
  keytoolPerRoot: Timing;
  rootStore: Timing;
}

async function measure(lab: Lab, roots: Certificate[]): Promise<Row> {
  const addresses = lab.hosts.map((host) => host.address);
  const fanOut = (command: string) => sshFanOut(addresses, join(lab.dir, "ssh_config"), command, lab.hosts.length);
  const java = (host: LabHost): StoreTarget => ({
    connection: lab.connection(host),
    platform: "debian",
    store: "Java",
    keystore: { location: { kind: "file", path: TRUSTSTORE }, password: PASSWORD },
  });
  const rootStore = (host: LabHost): StoreTarget => ({ connection: lab.connection(host), platform: "debian" });
  // Every run starts from the administrator's truststore and a Root store without the roots.
  const reset = async () => {
    await fanOut(`cp -p ${PRISTINE} ${TRUSTSTORE} && rm -rf ${JAVA_STATE}`);
    await mapWithConcurrency(lab.hosts, lab.hosts.length, (host) => converge(rootStore(host), { roots: [] }, "exact"));
  };
  const ours = () => mapWithConcurrency(lab.hosts, lab.hosts.length, (host) => converge(java(host), { roots }, "exact"));
  const imports = roots.map((root, index) => `printf '%s' '${root.pem}' > /tmp/bench-${index}.crt && keytool -importcert -noprompt -alias bench-${index} -file /tmp/bench-${index}.crt -keystore ${TRUSTSTORE} -storepass ${PASSWORD} >/dev/null`);
  const keytoolPerRoot = () => fanOut(imports.join(" && "));
  const rootStoreApply = () => mapWithConcurrency(lab.hosts, lab.hosts.length, (host) => converge(rootStore(host), { roots }, "exact"));
  return {
    roots: roots.length,
    ours: await repeat(repeats, ours, reset),
    keytoolPerRoot: await repeat(repeats, keytoolPerRoot, reset),
    rootStore: await repeat(repeats, rootStoreApply, reset),
  };
}

async function main(): Promise<void> {
  // Taken before the run: what was measured, not what the tree became meanwhile.
  const origin = sourceOrigin();
  const pki = new TestPki();
  const all = Array.from({ length: Math.max(...ROOT_COUNTS) }, (_, index) => parseCertificates(pki.root(`java-bench-${index}`, `/CN=Java Bench Root ${index}`, { key: "ec256" }).pem)[0]);
  const [admins] = parseCertificates(pki.root("java-bench-admins", "/CN=Bench Admin Root", { key: "ec256" }).pem);
  const lab = await Lab.start(hostCount);
  const rows: Row[] = [];
  try {
    for (const host of lab.hosts) {
      await lab.writeFile(host, "/tmp/admins.crt", admins.pem);
      await lab.exec(host, "keytool", "-importcert", "-noprompt", "-alias", "admins-root", "-file", "/tmp/admins.crt", "-keystore", PRISTINE, "-storetype", "PKCS12", "-storepass", PASSWORD);
    }
    for (const count of ROOT_COUNTS) {
      const row = await measure(lab, all.slice(0, count));
      rows.push(row);
      console.log(`K = ${count} roots, ${hostCount} hosts: ours ${show(row.ours)} | keytool per root ${show(row.keytoolPerRoot)} | our Root store ${show(row.rootStore)}`);
    }
  } finally {
    await lab.stop();
  }
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  const results = { generatedAt: new Date().toISOString(), origin, machine, hosts: hostCount, repeats, rows };
  saveRun("java", results, { path: "docs/java-performance.md", render });
}

function render(results: { generatedAt: string; origin: string; machine: Record<string, unknown>; hosts: number; repeats: number; rows: Row[] }, file: string): string {
  const t = (timing: Timing) => `${timing.median.toFixed(2)} s (${timing.min.toFixed(2)}–${timing.max.toFixed(2)})`;
  return `# What a Java store costs

Generated by \`npm run bench:java\` (bench/javaStore.ts) from ${results.origin} at ${results.generatedAt} on ${results.machine.cores} cores
(${results.machine.cpu}), ${results.machine.memoryGiB} GiB, Node ${results.machine.node}. ${results.hosts} lab hosts, all at once; each cell the median of
${results.repeats} runs (min–max); raw data in \`${file.slice(ROOT.length + 1)}\`.

Every run starts from the same PKCS12 application truststore (an administrator's root in it) and adds K roots on every host:
- **ours**: the Java store's apply (one SSH session per host: observe, rewrite here, put in place, one \`keytool -list\` to check).
- **keytool per root**: what hand-written wrappers do, one \`keytool -importcert\` per root in one \`ssh\` per host (a JVM per root,
  the password on the command line).
- **our Root store**: the same roots into the host's system store (\`update-ca-certificates\`), for scale.

| K roots | ours | keytool per root | keytool per root / ours | our Root store | ours / Root store |
|---|---|---|---|---|---|
${results.rows.map((row) => `| ${row.roots} | ${t(row.ours)} | ${t(row.keytoolPerRoot)} | ${(row.keytoolPerRoot.median / row.ours.median).toFixed(2)} | ${t(row.rootStore)} | ${(row.ours.median / row.rootStore.median).toFixed(2)} |`).join("\n")}

Our side starts one JVM per host and apply whatever K is (a unit test counts the keytool runs); the wrapper starts K.
`;
}

main().catch((error: unknown) => {
  console.error(`bench:java failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
