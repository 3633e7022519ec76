// `npm run bench`: trusted-roots against the alternative users would pick (an Ansible playbook: copy the root,
// an update-ca-certificates handler, reload nginx; --check for drift), on the same lab hosts in one run, and
// our cost as the fleet grows. Prints a table, writes bench/results/bench-<time>.json and docs/performance.md.
// Sizes: BENCH_SIZES (default 5,20,50); repeats: BENCH_REPEATS (default 3). Not a test: figures, not verdicts.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { ConfigMap } from "@pulumi/pulumi/automation";
import { parseCertificateIdentities, parseCertificates, type Certificate } from "../components/certificates";
import { fleetFromStackConfig } from "../components/program";
import { converge } from "../components/store";
import { mapWithConcurrency } from "../components/transport";
import { EngineProject } from "../test/support/engine";
import { Lab, type LabHost } from "../test/support/lab";
import { TestPki } from "../test/support/pki";

const ROOT = resolve(__dirname, "../..");
const CLI = join(ROOT, "dist/components/cli/main.js");
const sizes = (process.env.BENCH_SIZES ?? "5,20,50").split(",").map(Number);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
const CONCURRENCY = 25;
const run = promisify(execFile);

interface Timing {
  median: number;
  min: number;
  max: number;
  runs: number;
}

function timing(values: number[]): Timing {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1], runs: values.length };
}

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function repeat(times: number, work: () => Promise<unknown>, reset?: () => Promise<unknown>): Promise<Timing> {
  const values: number[] = [];
  for (let index = 0; index < times; index++) {
    if (reset) await reset();
    values.push(await seconds(work));
  }
  return timing(values);
}

const show = (t: Timing) => `${t.median.toFixed(2)} s (${t.min.toFixed(2)}-${t.max.toFixed(2)}, n=${t.runs})`;

/** An Ansible project for the lab: inventory, config and the playbook a user would write. */
function ansibleProject(lab: Lab, dir: string, root: Certificate): { env: NodeJS.ProcessEnv; playbook: string } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "root.crt"), root.pem);
  writeFileSync(
    join(dir, "inventory.ini"),
    "[web]\n" + lab.hosts.map((host) => `${host.name} ansible_host=${host.address}`).join("\n") +
      `\n\n[web:vars]\nansible_user=root\nansible_ssh_private_key_file=${join(lab.dir, "client_key")}\nansible_ssh_common_args='-F ${join(lab.dir, "ssh_config")}'\nansible_python_interpreter=/usr/bin/python3\n`,
  );
  // The peer gets its best settings: pipelining and persistent connections, forks = N, no fact gathering.
  writeFileSync(
    join(dir, "ansible.cfg"),
    `[defaults]\ninventory = inventory.ini\nforks = ${lab.hosts.length}\nhost_key_checking = True\ngathering = explicit\nretry_files_enabled = False\nstdout_callback = minimal\n\n[ssh_connection]\npipelining = True\nssh_args = -o ControlMaster=auto -o ControlPersist=60s\ncontrol_path_dir = ${join(dir, "cp")}\n`,
  );
  const playbook = join(dir, "trusted-roots.yml");
  writeFileSync(
    playbook,
    `- hosts: web
  gather_facts: false
  tasks:
    - name: private root in the anchors directory
      copy: { src: root.crt, dest: /usr/local/share/ca-certificates/ansible-root.crt, mode: "0644" }
      notify: [refresh trust store, reload nginx]
  handlers:
    - name: refresh trust store
      command: update-ca-certificates
    - name: reload nginx
      command: nginx -s reload
`,
  );
  return { env: { ...process.env, ANSIBLE_CONFIG: join(dir, "ansible.cfg") }, playbook };
}

async function sshFanOut(lab: Lab, command: string, concurrency: number): Promise<void> {
  const addresses = lab.hosts.map((host) => host.address).join("\n");
  await run("sh", ["-c", `printf '%s\\n' "$1" | xargs -P ${concurrency} -I{} ssh -F "$2" {} "$3"`, "sh", addresses, join(lab.dir, "ssh_config"), command]);
}

const acceptedSessions = async (lab: Lab, host: LabHost) => Number((await lab.sh(host, "grep -c 'Accepted publickey' /var/log/trl-sshd.log || true")).trim());

async function sessionsPerHost(lab: Lab, work: () => Promise<unknown>): Promise<number[]> {
  const before = await Promise.all(lab.hosts.map((host) => acceptedSessions(lab, host)));
  await work();
  const after = await Promise.all(lab.hosts.map((host) => acceptedSessions(lab, host)));
  return [...new Set(after.map((count, index) => count - before[index]))].sort();
}

async function engineFigures(lab: Lab, roots: Certificate[]): Promise<Record<string, unknown>> {
  const project = new EngineProject();
  mkdirSync(join(project.dir, "roots"));
  roots.forEach((root, index) => writeFileSync(join(project.dir, `roots/${index}.pem`), root.pem));
  const stack = await project.stack("bench", async () => ({ report: fleetFromStackConfig(project.dir).report }));
  const config = (rootCount: number): ConfigMap => {
    const values = {
      servers: lab.hosts.map((host) => ({ name: host.name, host: host.address, platform: "debian", hostKey: host.hostKey, groups: ["web"] })),
      rootSets: Object.fromEntries(roots.slice(0, rootCount).map((_, index) => [`r${index}`, { files: [`roots/${index}.pem`] }])),
      groups: { web: { roots: roots.slice(0, rootCount).map((_, index) => `r${index}`) } },
      rollout: { percent: 100 },
    };
    return {
      ...Object.fromEntries(Object.entries(values).map(([key, value]) => [`trusted-roots:${key}`, { value: JSON.stringify(value) }])),
      "trusted-roots:privateKey": { value: lab.clientKey, secret: true },
    };
  };
  await stack.setAllConfig(config(1));
  await stack.up();
  const previewRefresh = await repeat(repeats, () => stack.preview({ refresh: true, expectNoChanges: true }));
  await stack.setAllConfig(config(2));
  const upOneRoot = await repeat(1, () => stack.up());
  await stack.destroy();
  const count = lab.hosts.length;
  return { previewRefresh, previewRefreshPerHost: previewRefresh.median / count, upOneRoot, upOneRootPerHost: upOneRoot.median / count };
}

async function main(): Promise<void> {
  execFileSync("bash", [join(ROOT, "bench/install-deps.sh")], { stdio: "inherit" });
  const ansibleVersion = execFileSync("ansible-playbook", ["--version"], { encoding: "utf8" }).split("\n")[0];
  const pki = new TestPki();
  const roots = ["Bench Root A", "Bench Root B"].map((name, index) => parseCertificates(pki.root(`bench-${index}`, `/CN=${name}`, { key: "ec256" }).pem)[0]);
  const rows: Record<string, unknown>[] = [];

  for (const count of sizes) {
    console.log(`\n== N = ${count} hosts`);
    const lab = await Lab.start(count);
    try {
      const target = (host: LabHost) => ({ connection: lab.connection(host), platform: "debian" as const });
      const ours = (declared: Certificate[]) => mapWithConcurrency(lab.hosts, CONCURRENCY, (host) => converge(target(host), { roots: declared }, "exact"));
      const ansible = ansibleProject(lab, join(lab.dir, "ansible"), roots[1]);
      // Output to a file, not a pipe: ControlPersist masters inherit ansible's stdout and would hold a pipe open.
      const playbook = (extra: string[] = []) =>
        run("sh", ["-c", 'ansible-playbook "$@" >> ansible.log 2>&1', "sh", ansible.playbook, ...extra], { env: ansible.env, cwd: join(lab.dir, "ansible") });
      const clean = async () => {
        await ours([]);
        await sshFanOut(lab, "rm -f /usr/local/share/ca-certificates/ansible-root.crt && update-ca-certificates --fresh >/dev/null", CONCURRENCY);
      };
      // The bare cost of the store refresh itself: copy one file and run update-ca-certificates, nothing else.
      const bareRefresh = await repeat(repeats, () => sshFanOut(lab, "cp /etc/trl-lab/server.crt /usr/local/share/ca-certificates/bare.crt && update-ca-certificates >/dev/null", CONCURRENCY), () => sshFanOut(lab, "rm -f /usr/local/share/ca-certificates/bare.crt && update-ca-certificates --fresh >/dev/null", CONCURRENCY));
      await sshFanOut(lab, "rm -f /usr/local/share/ca-certificates/bare.crt && update-ca-certificates --fresh >/dev/null", CONCURRENCY);

      const oursFirst = await repeat(repeats, () => ours([roots[0]]), clean);
      const ansibleFirst = await repeat(repeats, () => playbook(), clean);
      await ours([roots[0]]);
      await playbook();
      const oursAgain = await repeat(repeats, () => ours([roots[0]]));
      const ansibleAgain = await repeat(repeats, () => playbook());

      writeFileSync(join(lab.dir, "bench-root.pem"), roots[0].pem);
      const inventory = join(lab.dir, "scan-inventory.json");
      writeFileSync(inventory, JSON.stringify({
        servers: lab.hosts.map((host) => ({ name: host.name, host: host.address, platform: "debian", hostKey: host.hostKey, groups: ["web"] })),
        rootSets: { bench: { files: ["bench-root.pem"] } },
        groups: { web: { roots: ["bench"] } },
        mode: "additive",
      }));
      const scanEnv = { ...process.env, TRUSTED_ROOTS_PRIVATE_KEY_FILE: join(lab.dir, "client_key") };
      const scan = () => run("node", [CLI, "scan", "--inventory", inventory, "--concurrency", String(Math.min(count, CONCURRENCY))], { env: scanEnv });
      const oursScan = await repeat(repeats, scan);
      const ansibleCheck = await repeat(repeats, () => playbook(["--check"]));
      const floor = await repeat(repeats, () => sshFanOut(lab, "true", Math.min(count, CONCURRENCY)));

      const scanSessions = await sessionsPerHost(lab, scan);
      await clean();
      const applySessions = await sessionsPerHost(lab, () => ours([roots[0]]));

      const row: Record<string, unknown> = {
        hosts: count,
        drift: { ours: oursScan, ansibleCheck, sshFloor: floor, oursVsAnsible: oursScan.median / ansibleCheck.median, oursVsFloor: oursScan.median / floor.median },
        firstApply: { ours: oursFirst, ansible: ansibleFirst, ratio: ansibleFirst.median / oursFirst.median, bareRefresh, oursBeyondRefresh: oursFirst.median / bareRefresh.median - 1 },
        reApply: { ours: oursAgain, ansible: ansibleAgain, ratio: ansibleAgain.median / oursAgain.median },
        sessionsPerHost: { scan: scanSessions, apply: applySessions },
      };
      if (count >= 20) row.engine = await engineFigures(lab, roots);
      rows.push(row);
      console.log(`drift check: ours ${show(oursScan)} | ansible --check ${show(ansibleCheck)} | ssh true floor ${show(floor)}`);
      console.log(`first apply: ours ${show(oursFirst)} | ansible ${show(ansibleFirst)} | bare refresh ${show(bareRefresh)}`);
      console.log(`re-apply:    ours ${show(oursAgain)} | ansible ${show(ansibleAgain)}`);
      console.log(`sessions per host: scan ${scanSessions.join("/")}, apply ${applySessions.join("/")}`);
      if (row.engine) console.log(`engine: preview --refresh ${show((row.engine as { previewRefresh: Timing }).previewRefresh)}, up one root ${show((row.engine as { upOneRoot: Timing }).upOneRoot)}`);
    } finally {
      await lab.stop();
    }
  }

  const bundle = readFileSync("/etc/ssl/certs/ca-certificates.crt");
  const full = await repeat(repeats, async () => {
    for (let index = 0; index < 20; index++) parseCertificates(bundle, { name: "bundle" });
  });
  const identities = await repeat(repeats, async () => {
    for (let index = 0; index < 20; index++) parseCertificateIdentities(bundle, { name: "bundle" });
  });
  const parsing = {
    bundleCertificates: parseCertificates(bundle).length,
    fullParseMsPerBundle: (full.median / 20) * 1000,
    identitiesCachedMsPerBundle: (identities.median / 20) * 1000,
  };
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, ansible: ansibleVersion };
  const results = { generatedAt: new Date().toISOString(), machine, repeats, concurrency: CONCURRENCY, rows, parsing };
  const resultsDir = join(ROOT, "bench/results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `bench-${results.generatedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(join(ROOT, "docs/performance.md"), renderPerformance(results, file));
  console.log(`\nparsing a ${parsing.bundleCertificates}-root bundle: ${parsing.fullParseMsPerBundle.toFixed(1)} ms full, ${parsing.identitiesCachedMsPerBundle.toFixed(2)} ms identities (cached)`);
  console.log(`results: ${file}\ndocs/performance.md updated`);
}

function renderPerformance(results: { generatedAt: string; machine: Record<string, unknown>; rows: Record<string, unknown>[]; parsing: Record<string, number>; repeats: number }, file: string): string {
  const get = (row: Record<string, unknown>, path: string) => path.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown>)?.[key], row);
  const t = (row: Record<string, unknown>, path: string) => {
    const value = get(row, path) as Timing | undefined;
    return value ? `${value.median.toFixed(2)} s` : "—";
  };
  const n = (row: Record<string, unknown>, path: string, digits = 2) => {
    const value = get(row, path) as number | undefined;
    return value === undefined ? "—" : value.toFixed(digits);
  };
  const at = (hosts: number) => results.rows.find((row) => row.hosts === hosts);
  const target = (ok: boolean | undefined) => (ok === undefined ? "not measured" : ok ? "met" : "**missed**");
  const r20 = at(20);
  const r50 = at(50);
  const perHost20 = r20 ? (get(r20, "engine.previewRefreshPerHost") as number | undefined) : undefined;
  const perHost50 = r50 ? (get(r50, "engine.previewRefreshPerHost") as number | undefined) : undefined;
  return `# Performance

Generated by \`npm run bench\` (bench/compare.ts) at ${results.generatedAt} on ${results.machine.cores} cores (${results.machine.cpu}),
${results.machine.memoryGiB} GiB, Node ${results.machine.node}, ${results.machine.ansible}. Medians of ${results.repeats} runs; raw data in
\`${file.slice(ROOT.length + 1)}\`. Lab hosts: Debian trust stores in network namespaces on this machine.

| N | drift: ours | ansible --check | ssh true floor | ours/ansible | ours/floor | first apply: ours | ansible | ansible/ours | bare refresh | re-apply: ours | ansible | sessions scan/apply |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
${results.rows.map((row) => `| ${row.hosts} | ${t(row, "drift.ours")} | ${t(row, "drift.ansibleCheck")} | ${t(row, "drift.sshFloor")} | ${n(row, "drift.oursVsAnsible")} | ${n(row, "drift.oursVsFloor")} | ${t(row, "firstApply.ours")} | ${t(row, "firstApply.ansible")} | ${n(row, "firstApply.ratio")} | ${t(row, "firstApply.bareRefresh")} | ${t(row, "reApply.ours")} | ${t(row, "reApply.ansible")} | ${(get(row, "sessionsPerHost.scan") as number[]).join("/")} / ${(get(row, "sessionsPerHost.apply") as number[]).join("/")} |`).join("\n")}

The real engine (\`pulumi preview --refresh\` of an in-sync stack, \`pulumi up\` adding one root, no restart):

| N | preview --refresh | per host | up one root | per host |
|---|---|---|---|---|
${results.rows.filter((row) => row.engine).map((row) => `| ${row.hosts} | ${t(row, "engine.previewRefresh")} | ${n(row, "engine.previewRefreshPerHost", 3)} s | ${t(row, "engine.upOneRoot")} | ${n(row, "engine.upOneRootPerHost", 3)} s |`).join("\n")}

Parsing the machine's ${results.parsing.bundleCertificates}-root bundle: ${results.parsing.fullParseMsPerBundle.toFixed(1)} ms per bundle with every field (signature check
included), ${results.parsing.identitiesCachedMsPerBundle.toFixed(2)} ms for identities once each certificate is cached (what a scan does).

## Targets

- Drift scan ≥ 4× faster than the Ansible no-change check at N = 20: ${target(r20 ? (get(r20, "drift.oursVsAnsible") as number) <= 0.25 : undefined)} (ours/ansible ${r20 ? n(r20, "drift.oursVsAnsible") : "—"}).
- Drift scan within 1.3× of the raw SSH floor at N = 20: ${target(r20 ? (get(r20, "drift.oursVsFloor") as number) <= 1.3 : undefined)} (${r20 ? n(r20, "drift.oursVsFloor") : "—"}).
- First apply ≥ 1.5× faster than Ansible: ${target(r20 ? (get(r20, "firstApply.ratio") as number) >= 1.5 : undefined)} (ansible/ours ${r20 ? n(r20, "firstApply.ratio") : "—"} at N = 20).
- Our first apply beyond the bare store refresh under 20%: ${target(r20 ? (get(r20, "firstApply.oursBeyondRefresh") as number) < 0.2 : undefined)} (${r20 ? ((get(r20, "firstApply.oursBeyondRefresh") as number) * 100).toFixed(0) : "—"}% at N = 20).
- Exactly 1 SSH session per host per scan, at most 2 per apply: ${target(results.rows.every((row) => JSON.stringify(get(row, "sessionsPerHost.scan")) === "[1]" && (get(row, "sessionsPerHost.apply") as number[]).every((count) => count <= 2)))}.
- \`pulumi preview --refresh\` per host at N = 50 within 1.3× of N = 20: ${target(perHost20 && perHost50 ? perHost50 / perHost20 <= 1.3 : undefined)} (${perHost20 && perHost50 ? (perHost50 / perHost20).toFixed(2) : "—"}).

## Notes

- In the lab, \`update-ca-certificates\` costs about 0.6–1 s per host (the machine's Java hook is hidden from the
  hosts), far below the 4–5 s of the reference machine, so the refresh dominates less here than there; the 2
  cores are shared by the client, every host's sshd and every refresh.
- The apply is one SSH session per host: observe, plan and — only if something changes — one atomic script that
  refreshes and observes again. A no-change re-apply runs no refresh at all.
- Ansible runs with pipelining, ControlPersist, forks = N and no fact gathering: its best settings, not tuned down.
- A scan has a fixed cost of about 0.25 s (starting Node and loading its modules) on top of its SSH sessions:
  it dominates at small N (ours/floor near 2 at N = 5) and fades as N grows (below 1 at N = 50, where one process
  with 16 connections beats 50 separate \`ssh\` processes).
`;
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
