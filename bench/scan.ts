// `npm run bench:scan`: how close a fleet scan comes to raw SSH fan-out on the same lab hosts.
// For each N: start N lab hosts, converge them (so the scan finds them in sync), then time, R times each,
// `trusted-roots scan` (the real command, one process) and `ssh HOST true` to every host through xargs -P with
// the same concurrency. Prints medians, spread and the ratio; writes bench/results/scan-<time>.json.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parseCertificates } from "../components/certificates";
import { converge } from "../components/store";
import { mapWithConcurrency } from "../components/transport";
import { Lab } from "../test/support/lab";
import { TestPki } from "../test/support/pki";
import { runsFrom, seconds, show, sshFanOut, timing } from "./timing";

const CLI = resolve(__dirname, "../components/cli/main.js");
const RESULTS = resolve(__dirname, "../../bench/results");
const sizes = (process.env.BENCH_SIZES ?? "20,50").split(",").map(Number);
const repeats = runsFrom("BENCH_REPEATS", 5);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);


async function main(): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  const pki = new TestPki();
  const [root] = parseCertificates(pki.root("bench", "/CN=Bench Root", { key: "ec256" }).pem);
  for (const count of sizes) {
    const lab = await Lab.start(count);
    try {
      await mapWithConcurrency(lab.hosts, 8, (host) => converge({ connection: lab.connection(host), platform: "debian" }, { roots: [root] }, "exact"));
      const inventory = join(lab.dir, "bench-inventory.json");
      writeFileSync(join(lab.dir, "bench.pem"), root.pem);
      writeFileSync(inventory, JSON.stringify({
        servers: lab.hosts.map((host) => ({ name: host.name, host: host.address, platform: "debian", hostKey: host.hostKey, groups: ["all"] })),
        rootSets: { bench: { files: ["bench.pem"] } },
        groups: { all: { roots: ["bench"] } },
      }));
      const env = { ...process.env, TRUSTED_ROOTS_PRIVATE_KEY_FILE: join(lab.dir, "client_key") };
      const scan = () => promisify(execFile)("node", [CLI, "scan", "--inventory", inventory, "--concurrency", String(concurrency)], { env });
      const fanOut = () => sshFanOut(lab.hosts.map((host) => host.address), join(lab.dir, "ssh_config"), "true", concurrency);
      await scan();
      await fanOut();
      // Interleaved, so both sides see the same machine state.
      const scanTimes: number[] = [];
      const sshTimes: number[] = [];
      for (let run = 0; run < repeats; run++) {
        scanTimes.push(await seconds(scan));
        sshTimes.push(await seconds(fanOut));
      }
      const scanTiming = timing(scanTimes);
      const sshTiming = timing(sshTimes);
      const row = { hosts: count, concurrency, scan: scanTiming, ssh: sshTiming, ratio: scanTiming.median / sshTiming.median };
      rows.push(row);
      console.log(`N=${count}: scan ${show(row.scan)}, ssh true fan-out ${show(row.ssh)}, ratio ${row.ratio.toFixed(2)} (concurrency ${concurrency})`);
    } finally {
      await lab.stop();
    }
  }
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `scan-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  const cpu = execFileSync("nproc", { encoding: "utf8" }).trim();
  writeFileSync(file, JSON.stringify({ benchmark: "scan vs ssh fan-out", cores: Number(cpu), node: process.version, rows }, null, 2) + "\n");
  console.log(`\nresults: ${file}`);
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).message}`);
  process.exit(1);
});
