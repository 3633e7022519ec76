// `node dist/bench/slowMachine.js SHARE COMMAND...`: runs COMMAND on this machine made slower, to see how long
// it takes on the slower machines of this kind. Machines of one kind differ several times in speed (the
// yardstick: `update-ca-certificates --fresh`, 0.65 s on one and 3.9 s on another), and CI's time limit holds on
// the slowest. One hog per core, pinned to it at real-time priority, takes SHARE of every 10 ms of that core; what
// is left runs everything else, so every process sees a slower core, single-threaded or not. The yardstick is
// timed (median of 5, into a scratch folder, no hooks) before and under the hogs: its ratio is the slowdown, and
// the figure under the hogs says which machine this stands for. Root only (real-time priority). Not a test.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { timing } from "./timing";

const PERIOD_MS = 10;

/** The hog itself (`--hog SHARE`): spin for SHARE of each period, sleep the rest. */
function hog(share: number): never {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const parent = process.ppid;
  let periodStart = performance.now();
  for (;;) {
    // Orphaned (the runner was killed): stop, or a core stays half taken at real-time priority.
    if (process.ppid !== parent) process.exit(0);
    while (performance.now() - periodStart < PERIOD_MS * share) {
      // spinning is the point: this core's time is taken
    }
    periodStart += PERIOD_MS;
    const rest = periodStart - performance.now();
    if (rest > 0) Atomics.wait(sleeper, 0, 0, rest);
  }
}

/** update-ca-certificates --fresh into a scratch folder (the machine's own store is left alone): median seconds. */
function yardstick(): number {
  const scratch = mkdtempSync(join(tmpdir(), "trl-yardstick-"));
  try {
    const empty = join(scratch, "empty");
    const certs = join(scratch, "certs");
    mkdirSync(empty);
    mkdirSync(certs);
    const run = () => {
      const started = performance.now();
      execFileSync("update-ca-certificates", ["--fresh", "--localcertsdir", empty, "--etccertsdir", certs, "--hooksdir", empty], { stdio: "ignore" });
      return (performance.now() - started) / 1000;
    };
    run(); // the first run reads the CA files from disk; the others time the work
    return timing(Array.from({ length: 5 }, run)).median;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function main(): void {
  const [shareText, ...command] = process.argv.slice(2);
  if (shareText === "--hog") hog(Number(command[0]));
  const share = Number(shareText);
  if (!(share > 0 && share < 0.9) || command.length === 0) {
    console.error("usage: node dist/bench/slowMachine.js SHARE COMMAND... (SHARE: the part of each core the hogs take, above 0 and below 0.9)");
    process.exit(2);
  }
  const before = yardstick();
  const hogs: ChildProcess[] = Array.from({ length: availableParallelism() }, (_, cpu) =>
    spawn("chrt", ["-f", "50", "taskset", "-c", String(cpu), process.execPath, __filename, "--hog", String(share)], { stdio: "ignore" }),
  );
  const stopHogs = () => hogs.forEach((child) => child.kill("SIGKILL"));
  process.on("exit", stopHogs);
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));
  const under = yardstick();
  console.log(`slowMachine: update-ca-certificates --fresh ${before.toFixed(2)} s here, ${under.toFixed(2)} s with ${hogs.length} hogs taking ${Math.round(share * 100)} % of each core: ${(under / before).toFixed(2)}x slower`);
  const started = performance.now();
  const child = spawn(command[0], command.slice(1), { stdio: "inherit" });
  child.on("exit", (code, signal) => {
    console.log(`slowMachine: ${command.join(" ")} took ${((performance.now() - started) / 1000).toFixed(0)} s at ${(under / before).toFixed(2)}x slower (exit ${code ?? signal})`);
    process.exit(code ?? 1);
  });
}

main();
