// `npm run bench`: trusted-roots against the alternative users would pick (an Ansible playbook: copy the root,
// a refresh handler, a reload handler; --check for drift), on the same lab hosts in one run, with equal work on
// every side of each ratio: one process start per run, the same hosts, the same concurrency, the same nginx
// reload command after a change. Prints a table, writes bench/results/bench-<time>.json and docs/performance.md.
// Sizes: BENCH_SIZES (default 20,50); runs per measurement: BENCH_REPEATS (odd, at least 3; default 3).
// Not a test: figures, not verdicts; a missed target is reported as missed.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { sourceOrigin } from "./origin";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parseCertificateIdentities, parseCertificates, type Certificate } from "../components/certificates";
import { restartScript } from "../components/resources/afterChangeScripts";
import { converge } from "../components/store";
import { mapWithConcurrency, PHASES, type Profile } from "../components/transport";
import { Lab, type LabHost } from "../test/support/lab";
import { TestPki } from "../test/support/pki";
import { renderSaved, saveRun, type Report } from "./results";
import { repeat, runsFrom, show, sshFanOut, type Timing } from "./timing";

const ROOT = resolve(__dirname, "../..");
const CLI = join(ROOT, "dist/components/cli/main.js");
const APPLY_FLEET = join(ROOT, "dist/bench/applyFleet.js");
const sizes = (process.env.BENCH_SIZES ?? "20,50").split(",").map(Number);
const repeats = runsFrom("BENCH_REPEATS", 3);
const MAX_CONCURRENCY = 16;
/** The fleet-size scan: this many inventory entries spread over the largest lab (BENCH_FLEET_ENTRIES). */
const FLEET_ENTRIES = Number(process.env.BENCH_FLEET_ENTRIES ?? 1000);
/** The one reload every side runs after a change: this package's nginx preset (config test, then reload). */
const RELOAD = restartScript("debian", "nginx").stdin.trim();
const run = promisify(execFile);

/** An Ansible project for the lab: inventory, config and the playbook a user would write. */
function ansibleProject(lab: Lab, dir: string, root: Certificate, concurrency: number): { env: NodeJS.ProcessEnv; playbook: string } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "root.crt"), root.pem);
  writeFileSync(
    join(dir, "inventory.ini"),
    "[web]\n" + lab.hosts.map((host) => `${host.name} ansible_host=${host.address}`).join("\n") +
      `\n\n[web:vars]\nansible_user=root\nansible_ssh_private_key_file=${join(lab.dir, "client_key")}\nansible_ssh_common_args='-F ${join(lab.dir, "ssh_config")}'\nansible_python_interpreter=/usr/bin/python3\n`,
  );
  // The peer gets its best settings (pipelining, persistent connections, no fact gathering) and our concurrency.
  writeFileSync(
    join(dir, "ansible.cfg"),
    `[defaults]\ninventory = inventory.ini\nforks = ${concurrency}\nhost_key_checking = True\ngathering = explicit\nretry_files_enabled = False\nstdout_callback = minimal\n\n[ssh_connection]\npipelining = True\nssh_args = -o ControlMaster=auto -o ControlPersist=60s\ncontrol_path_dir = ${join(dir, "cp")}\n`,
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
      shell: ${JSON.stringify(RELOAD)}
`,
  );
  return { env: { ...process.env, ANSIBLE_CONFIG: join(dir, "ansible.cfg") }, playbook };
}

const acceptedSessions = async (lab: Lab, host: LabHost) => Number((await lab.sh(host, "grep -c 'Accepted publickey' /var/log/trl-sshd.log || true")).trim());

async function sessionsPerHost(lab: Lab, work: () => Promise<unknown>): Promise<number[]> {
  const before = await Promise.all(lab.hosts.map((host) => acceptedSessions(lab, host)));
  await work();
  const after = await Promise.all(lab.hosts.map((host) => acceptedSessions(lab, host)));
  return [...new Set(after.map((count, index) => count - before[index]))].sort();
}

/** One scan of a fleet-size inventory: its throughput and the scanning process's peak memory. */
interface FleetScan {
  entries: number;
  labHosts: number;
  concurrency: number;
  seconds: number;
  hostsPerSecond: number;
  peakRssMiB: number;
  inSync: number;
}

/**
 * `trusted-roots scan` of FLEET_ENTRIES inventory entries, each naming one of the lab's hosts (so every host is
 * scanned many times, one SSH session per entry), under GNU time for the peak resident memory.
 */
async function fleetScan(lab: Lab, concurrency: number, env: NodeJS.ProcessEnv): Promise<FleetScan> {
  const inventory = join(lab.dir, "fleet-inventory.json");
  const servers = Array.from({ length: FLEET_ENTRIES }, (_, index) => {
    const host = lab.hosts[index % lab.hosts.length];
    return { name: `e${String(index + 1).padStart(5, "0")}`, host: host.address, platform: "debian", hostKey: host.hostKey, groups: ["web"] };
  });
  writeFileSync(inventory, JSON.stringify({ servers, rootSets: { bench: { files: ["bench-root.pem"] } }, groups: { web: { roots: ["bench"] } }, mode: "additive" }));
  const measured = await run("/usr/bin/time", ["-f", "TRL-TIME %M %e", "node", CLI, "scan", "--inventory", inventory, "--concurrency", String(concurrency), "--json"], {
    env,
    maxBuffer: 512 * 2 ** 20,
  }).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? "", stderr: error.stderr ?? "" }));
  const [, kib, seconds] = /TRL-TIME (\d+) ([\d.]+)/.exec(measured.stderr) ?? [];
  if (!kib) throw new Error(`the fleet scan did not finish: ${measured.stderr.slice(-2000)}`);
  const report = JSON.parse(measured.stdout) as { summary: { inSync: number } };
  return {
    entries: FLEET_ENTRIES,
    labHosts: lab.hosts.length,
    concurrency,
    seconds: Number(seconds),
    hostsPerSecond: FLEET_ENTRIES / Number(seconds),
    peakRssMiB: Number(kib) / 1024,
    inSync: report.summary.inSync,
  };
}

interface Row {
  hosts: number;
  concurrency: number;
  drift: { ours: Timing; ansibleCheck: Timing; sshFloor: Timing };
  firstApply: { ours: Timing; ansible: Timing; bare: Timing };
  reApply: { ours: Timing; ansible: Timing };
  sessionsPerHost: { scan: number[]; apply: number[] };
  /** One more run of each, with TRUSTED_ROOTS_PROFILE: where its time went. */
  profiles: { scan: Profile; firstApply: Profile };
  fleetScan?: FleetScan;
}

/** Runs `work` with TRUSTED_ROOTS_PROFILE pointing at a file, and reads the profile the process wrote there. */
async function profiled(dir: string, name: string, work: (env: NodeJS.ProcessEnv) => Promise<unknown>): Promise<Profile> {
  const file = join(dir, `profile-${name}.json`);
  await work({ ...process.env, TRUSTED_ROOTS_PROFILE: file });
  return JSON.parse(readFileSync(file, "utf8")) as Profile;
}

async function measure(count: number, roots: Certificate[], withFleetScan: boolean): Promise<Row> {
  const concurrency = Math.min(count, MAX_CONCURRENCY);
  const lab = await Lab.start(count);
  try {
    const sshConfig = join(lab.dir, "ssh_config");
    const addresses = lab.hosts.map((host) => host.address);
    const fanOut = (command: string) => sshFanOut(addresses, sshConfig, command, concurrency);
    const target = (host: LabHost) => ({ connection: lab.connection(host), platform: "debian" as const });
    writeFileSync(join(lab.dir, "bench-root.pem"), roots[0].pem);
    const job = join(lab.dir, "apply-fleet.json");
    writeFileSync(job, JSON.stringify({
      hosts: lab.hosts.map((host) => ({ address: host.address, hostKey: host.hostKey })),
      rootFile: join(lab.dir, "bench-root.pem"),
      privateKeyFile: join(lab.dir, "client_key"),
      concurrency,
      reloadCommand: RELOAD,
    }));
    const ours = (env: NodeJS.ProcessEnv = process.env) => run("node", [APPLY_FLEET, job], { env });
    const ansible = ansibleProject(lab, join(lab.dir, "ansible"), roots[0], concurrency);
    // Output to a file, not a pipe: ControlPersist masters inherit ansible's stdout and would hold a pipe open.
    const playbook = (extra: string[] = []) =>
      run("sh", ["-c", 'ansible-playbook "$@" >> ansible.log 2>&1', "sh", ansible.playbook, ...extra], { env: ansible.env, cwd: join(lab.dir, "ansible") });
    const bareFile = "/usr/local/share/ca-certificates/bare.crt";
    // Every side starts from a store without the root, then reloads nginx once the root is in.
    const clean = async () => {
      await mapWithConcurrency(lab.hosts, concurrency, (host) => converge(target(host), { roots: [] }, "exact"));
      await fanOut(`rm -f /usr/local/share/ca-certificates/ansible-root.crt ${bareFile} && update-ca-certificates --fresh >/dev/null && ${RELOAD} 2>/dev/null`);
    };
    const bare = () => fanOut(`cat > ${bareFile} <<'EOF'\n${roots[0].pem}EOF\nupdate-ca-certificates >/dev/null && ${RELOAD} 2>/dev/null`);

    const bareFirst = await repeat(repeats, bare, clean);
    const oursFirst = await repeat(repeats, () => ours(), clean);
    const ansibleFirst = await repeat(repeats, () => playbook(), clean);
    await clean();
    const firstApplyProfile = await profiled(lab.dir, "first-apply", ours);
    await playbook();
    const oursAgain = await repeat(repeats, () => ours());
    const ansibleAgain = await repeat(repeats, () => playbook());

    const inventory = join(lab.dir, "scan-inventory.json");
    writeFileSync(inventory, JSON.stringify({
      servers: lab.hosts.map((host) => ({ name: host.name, host: host.address, platform: "debian", hostKey: host.hostKey, groups: ["web"] })),
      rootSets: { bench: { files: ["bench-root.pem"] } },
      groups: { web: { roots: ["bench"] } },
      mode: "additive",
    }));
    const scanEnv = { ...process.env, TRUSTED_ROOTS_PRIVATE_KEY_FILE: join(lab.dir, "client_key") };
    const scan = (env = scanEnv) => run("node", [CLI, "scan", "--inventory", inventory, "--concurrency", String(concurrency)], { env });
    const oursScan = await repeat(repeats, () => scan());
    const ansibleCheck = await repeat(repeats, () => playbook(["--check"]));
    const floor = await repeat(repeats, () => fanOut("true"));

    const scanSessions = await sessionsPerHost(lab, () => scan());
    const scanProfile = await profiled(lab.dir, "scan", (env) => scan({ ...scanEnv, ...env }));
    const fleet = withFleetScan ? await fleetScan(lab, concurrency, scanEnv) : undefined;
    await clean();
    const applySessions = await sessionsPerHost(lab, () => ours());
    return {
      hosts: count,
      concurrency,
      drift: { ours: oursScan, ansibleCheck, sshFloor: floor },
      firstApply: { ours: oursFirst, ansible: ansibleFirst, bare: bareFirst },
      reApply: { ours: oursAgain, ansible: ansibleAgain },
      sessionsPerHost: { scan: scanSessions, apply: applySessions },
      profiles: { scan: scanProfile, firstApply: firstApplyProfile },
      ...(fleet ? { fleetScan: fleet } : {}),
    };
  } finally {
    await lab.stop();
  }
}

const REPORT: Report<Parameters<typeof renderPerformance>[0]> = { path: "docs/performance.md", render: (results, file) => renderPerformance(results, file) };

async function main(): Promise<void> {
  // `compare.js --render RESULTS.json`: docs/performance.md again from a run's raw data (no new measurement).
  if (process.argv[2] === "--render") return renderSaved(resolve(process.argv[3]), REPORT);
  // Taken before the run: what was measured, not what the tree became meanwhile.
  const origin = sourceOrigin();
  execFileSync("bash", [join(ROOT, "bench/install-deps.sh")], { stdio: "inherit" });
  const ansibleVersion = execFileSync("ansible-playbook", ["--version"], { encoding: "utf8" }).split("\n")[0];
  const pki = new TestPki();
  const roots = ["Bench Root A"].map((name, index) => parseCertificates(pki.root(`bench-${index}`, `/CN=${name}`, { key: "ec256" }).pem)[0]);
  const rows: Row[] = [];
  for (const count of sizes) {
    console.log(`\n== N = ${count} hosts`);
    const row = await measure(count, roots, count === Math.max(...sizes));
    rows.push(row);
    console.log(`drift check: ours ${show(row.drift.ours)} | ansible --check ${show(row.drift.ansibleCheck)} | ssh true ${show(row.drift.sshFloor)}`);
    console.log(`first apply: ours ${show(row.firstApply.ours)} | ansible ${show(row.firstApply.ansible)} | bare refresh+reload ${show(row.firstApply.bare)}`);
    console.log(`re-apply:    ours ${show(row.reApply.ours)} | ansible ${show(row.reApply.ansible)}`);
    console.log(`sessions per host: scan ${row.sessionsPerHost.scan.join("/")}, apply ${row.sessionsPerHost.apply.join("/")}`);
    if (row.fleetScan) console.log(`fleet scan: ${fleetScanText(row.fleetScan)}`);
  }

  // What every scan pays before its first handshake: node's start and the CLI's modules.
  const cliStart = await repeat(repeats, () => run("node", [CLI, "--help"]));
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
  const results = { generatedAt: new Date().toISOString(), origin, machine, repeats, reload: RELOAD, rows, parsing, cliStart };
  console.log(`\nparsing a ${parsing.bundleCertificates}-root bundle: ${parsing.fullParseMsPerBundle.toFixed(1)} ms full, ${parsing.identitiesCachedMsPerBundle.toFixed(2)} ms identities (cached)`);
  saveRun("bench", results, REPORT);
}

interface Target {
  what: string;
  /** The measured ratio and whether it meets the target. */
  ratio: (row: Row) => number;
  meets: (ratio: number) => boolean;
  shown: string;
  /** What bounds it, from this run's measurements. */
  bound: (row: Row) => string;
}

const startupSeconds = (profile: Profile) => (profile.startup.bootstrapMs + profile.startup.modulesMs) / 1000;
const medianMs = (profile: Profile, phase: string) => (profile.phases[phase]?.medianMs ?? 0).toFixed(0);

/** What a ratio of `factor` against a peer needs of us, and where our time went instead (from the profiled run). */
function needs(peer: Timing, factor: number, ours: Timing, profile: Profile, reference: string): string {
  const perHost = profile.phases[PHASES.apply]
    ? `a host's apply script (its update-ca-certificates) ${medianMs(profile, PHASES.apply)} ms and nginx reload ${medianMs(profile, PHASES.reload)} ms (medians)`
    : `a host's connect ${medianMs(profile, PHASES.connect)} ms and observe ${medianMs(profile, PHASES.observe)} ms (medians, waiting for the cores the lab's sshd shares)`;
  return `needs ≤ ${(peer.median / factor).toFixed(2)} s; ours ${ours.median.toFixed(2)} s = start-up ${startupSeconds(profile).toFixed(2)} s + the fan-out, with ${perHost}; ${reference}`;
}

const TARGETS: Target[] = [
  {
    what: "scan no slower than the raw `ssh HOST true` fan-out",
    ratio: (row) => row.drift.ours.median / row.drift.sshFloor.median,
    meets: (ratio) => ratio <= 1,
    shown: "ours / ssh",
    bound: (row) => {
      const start = startupSeconds(row.profiles.scan);
      return `start-up ${start.toFixed(2)} s before the first handshake (node ${(row.profiles.scan.startup.bootstrapMs / 1000).toFixed(2)} s, modules ${(row.profiles.scan.startup.modulesMs / 1000).toFixed(2)} s); after it ${((row.drift.ours.median - start) / row.drift.sshFloor.median).toFixed(2)}× ssh`;
    },
  },
  { what: "scan at least 5x faster than Ansible's --check run", ratio: (row) => row.drift.ansibleCheck.median / row.drift.ours.median, meets: (ratio) => ratio >= 5, shown: "ansible / ours", bound: (row) => needs(row.drift.ansibleCheck, 5, row.drift.ours, row.profiles.scan, `ssh true per host takes ${row.drift.sshFloor.median.toFixed(2)} s`) },
  {
    what: "first apply within 1.1x of the bare refresh and reload",
    ratio: (row) => row.firstApply.ours.median / row.firstApply.bare.median,
    meets: (ratio) => ratio <= 1.1,
    shown: "ours / bare",
    bound: (row) =>
      `what bare does not: start-up ${startupSeconds(row.profiles.firstApply).toFixed(2)} s, the observation before (median ${medianMs(row.profiles.firstApply, PHASES.observe)} ms a host) and the one after inside the apply, the verify`,
  },
  { what: "first apply at least 2x faster than Ansible", ratio: (row) => row.firstApply.ansible.median / row.firstApply.ours.median, meets: (ratio) => ratio >= 2, shown: "ansible / ours", bound: (row) => needs(row.firstApply.ansible, 2, row.firstApply.ours, row.profiles.firstApply, `the bare refresh and reload (the same host work, nothing else) takes ${row.firstApply.bare.median.toFixed(2)} s`) },
  { what: "no-change re-apply at least 5x faster than Ansible", ratio: (row) => row.reApply.ansible.median / row.reApply.ours.median, meets: (ratio) => ratio >= 5, shown: "ansible / ours", bound: (row) => needs(row.reApply.ansible, 5, row.reApply.ours, row.profiles.scan, `a re-apply reads each store as a scan does (profile of the scan); ssh true per host takes ${row.drift.sshFloor.median.toFixed(2)} s`) },
];

/** A profile as table rows: start-up, then each phase's count, median and sum over hosts (they overlap: C at a time). */
function profileRows(profile: Profile): string {
  const ms = (value: number) => `${value.toFixed(0)} ms`;
  return [
    `| start-up: node's bootstrap | 1 | ${ms(profile.startup.bootstrapMs)} | |`,
    `| start-up: loading the modules | 1 | ${ms(profile.startup.modulesMs)} | |`,
    ...Object.entries(profile.phases).map(([name, times]) => `| ${name} | ${times.count} | ${ms(times.medianMs)} | ${ms(times.totalMs)} |`),
    `| wall time of the run | | ${ms(profile.wallMs)} | |`,
  ].join("\n");
}

function fleetScanText(fleet: FleetScan): string {
  return `${fleet.entries} inventory entries over ${fleet.labHosts} lab hosts (concurrency ${fleet.concurrency}): ${fleet.seconds.toFixed(1)} s, ${fleet.hostsPerSecond.toFixed(1)} hosts per second, peak memory ${fleet.peakRssMiB.toFixed(0)} MiB, ${fleet.inSync} in sync`;
}

function renderPerformance(
  results: { generatedAt: string; origin?: string; machine: Record<string, unknown>; rows: Row[]; parsing: Record<string, number>; repeats: number; cliStart: Timing },
  file: string,
): string {
  const t = (timing: Timing) => `${timing.median.toFixed(2)} s (${timing.min.toFixed(2)}–${timing.max.toFixed(2)})`;
  const sessions = (counts: number[]) => counts.join("/");
  return `# Performance

Generated by \`npm run bench\` (bench/compare.ts) from ${results.origin ?? "an unrecorded commit"} at ${results.generatedAt} on ${results.machine.cores} cores (${results.machine.cpu}),
${results.machine.memoryGiB} GiB, Node ${results.machine.node}, ${results.machine.ansible}. Each cell: the median of ${results.repeats} runs
(min–max); raw data in \`${file.slice(ROOT.length + 1)}\`. Lab hosts: Debian trust stores in network namespaces on this machine.

What each side did, per run, on the same hosts with the same concurrency (columns "C"):
- **drift, ours**: \`trusted-roots scan --inventory\` (one Node process, one SSH session per host, whole store read and compared).
- **drift, ansible**: \`ansible-playbook --check\` of the playbook bench/compare.ts writes (forks = C).
- **drift, ssh**: \`ssh HOST true\` per host through \`xargs -P C\`: an ssh process per host doing nothing (one Node process with in-process sessions can beat it).
- **first apply** (store without the root before every run): **ours** \`node dist/bench/applyFleet.js\` (one process: per host one SSH
  session that observes, plans, writes the anchor, runs \`update-ca-certificates\`, verifies, then reloads nginx);
  **ansible** the playbook (copy the root, handlers \`update-ca-certificates\` and the same reload); **bare** one \`ssh\` per host
  that writes the file, runs \`update-ca-certificates\` and the same reload, nothing else.
- **re-apply**: the same commands again on hosts already holding the root (nothing changes, nothing reloads).
- The reload on every side: \`${RELOAD}\`.

| N | C | drift: ours | ansible --check | ssh true | first apply: ours | ansible | bare | re-apply: ours | ansible | SSH sessions per host: scan / apply |
|---|---|---|---|---|---|---|---|---|---|---|
${results.rows.map((row) => `| ${row.hosts} | ${row.concurrency} | ${t(row.drift.ours)} | ${t(row.drift.ansibleCheck)} | ${t(row.drift.sshFloor)} | ${t(row.firstApply.ours)} | ${t(row.firstApply.ansible)} | ${t(row.firstApply.bare)} | ${t(row.reApply.ours)} | ${t(row.reApply.ansible)} | ${sessions(row.sessionsPerHost.scan)} / ${sessions(row.sessionsPerHost.apply)} |`).join("\n")}

## Targets (ratios of medians from this run)

| target | ${results.rows.map((row) => `N = ${row.hosts}`).join(" | ")} | what bounds it (measured, N = ${results.rows.map((row) => row.hosts).join(" / ")}) |
|---|${results.rows.map(() => "---").join("|")}|---|
${TARGETS.map((target) => `| ${target.what} (${target.shown}) | ${results.rows.map((row) => { const ratio = target.ratio(row); return `${ratio.toFixed(2)} ${target.meets(ratio) ? "met" : "**missed**"}`; }).join(" | ")} | ${results.rows.filter((row) => !target.meets(target.ratio(row))).map((row) => `N = ${row.hosts}: ${target.bound(row)}`).join("; ") || "—"} |`).join("\n")}

## Where the time goes

One more run of each (after the timed ones), with \`TRUSTED_ROOTS_PROFILE\`: the process times its start-up and each
phase per host. Phases of different hosts overlap (C at a time, on the same ${results.machine.cores} cores as the lab's sshd and
shells), so a phase's median is what one host waited, including for the CPU, and its sum is not wall time.
\`trusted-roots --help\` alone takes ${results.cliStart.median.toFixed(2)} s (median).

${results.rows
  .map(
    (row) => `### N = ${row.hosts}, C = ${row.concurrency}

| scan | count | median | sum over hosts |
|---|---|---|---|
${profileRows(row.profiles.scan)}

| first apply (ours) | count | median | sum over hosts |
|---|---|---|---|
${profileRows(row.profiles.firstApply)}
`,
  )
  .join("\n")}
${results.rows
  .filter((row) => row.fleetScan)
  .map((row) => `A fleet-size scan (one run, \`trusted-roots scan --json\` under GNU time, one SSH session per entry): ${fleetScanText(row.fleetScan!)}.\n`)
  .join("")}
Parsing the machine's ${results.parsing.bundleCertificates}-root bundle: ${results.parsing.fullParseMsPerBundle.toFixed(1)} ms per bundle with every field (signature check
included), ${results.parsing.identitiesCachedMsPerBundle.toFixed(2)} ms for identities once each certificate is cached (what a scan does).
`;
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
