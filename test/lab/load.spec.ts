import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { converge, observeStore } from "../../components/store";
import { throwawayRoot } from "../../components/selftest/throwaway";
import { mapWithConcurrency } from "../../components/transport";
import { LOAD_FIGURES } from "../support/figures";
import { describeLab, Lab } from "../support/lab";
import { waitUntil } from "../support/wait";

const HOSTS = Number(process.env.TRL_LOAD_HOSTS ?? 50);
const CONCURRENCY = 16;

const openFds = () => readdirSync("/proc/self/fd").length;
const childProcesses = () => execFileSync("ps", ["--ppid", String(process.pid), "-o", "pid="], { encoding: "utf8" }).trim().split("\n").filter(Boolean).length;

describeLab(`load: ${HOSTS} hosts applied and scanned in one run`, function () {
  this.timeout(600_000);
  let lab: Lab;

  before(async () => {
    lab = await Lab.start(HOSTS);
  });

  after(async () => {
    await lab?.stop();
  });

  it("with bounded concurrency, and no leaked sessions, file descriptors or processes afterwards", async () => {
    const root = throwawayRoot(new Date(), { commonName: "Load Root" });
    const fdsBefore = openFds();
    let inFlight = 0;
    let peak = 0;
    const tracked = async <T>(work: () => Promise<T>) => {
      peak = Math.max(peak, ++inFlight);
      try {
        return await work();
      } finally {
        inFlight--;
      }
    };
    const started = Date.now();
    const applied = await mapWithConcurrency(lab.hosts, CONCURRENCY, (host) =>
      tracked(() => converge({ connection: lab.connection(host), platform: "debian" }, { roots: [root] }, "exact")),
    );
    const applySeconds = (Date.now() - started) / 1000;
    const scanStarted = Date.now();
    const scanned = await mapWithConcurrency(lab.hosts, CONCURRENCY, (host) => tracked(() => observeStore({ connection: lab.connection(host), platform: "debian" })));
    const scanSeconds = (Date.now() - scanStarted) / 1000;
    assert.equal(applied.filter((result) => result.changed).length, HOSTS);
    assert.equal(scanned.filter((store) => store.roots.some((entry) => entry.sha256 === root.sha256 && entry.trusted)).length, HOSTS);
    assert.ok(peak <= CONCURRENCY, `peak ${peak}`);
    // Sockets close asynchronously after `end()`: wait for them, and fail only if they never close.
    await waitUntil(() => openFds() <= fdsBefore, `the file descriptors are back to ${fdsBefore} (now ${openFds()})`, 60_000);
    const fdsAfter = openFds();
    assert.equal(childProcesses(), 1, "only the ps that counts");
    const sessions = await mapWithConcurrency(lab.hosts, 8, async (host) => Number((await lab.exec(host, "pgrep", "-c", "-x", "sshd")).trim()));
    assert.deepEqual([...new Set(sessions)], [1], "every host is back to its one listening sshd");
    writeFileSync(LOAD_FIGURES, JSON.stringify({ hosts: HOSTS, concurrency: CONCURRENCY, peak, applySeconds, scanSeconds, fdsBefore, fdsAfter, leakedSessions: sessions.reduce((sum, count) => sum + count - 1, 0) }));
  });
});
