// `npm run reliability`: runs the fault, corpus, load and secrets tests and writes docs/reliability.md from
// that run's results only. Every figure is counted from the run; a test that was skipped, or a section no test
// of the run belongs to, fails the generator instead of being reported. Edit this script, not the document.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sourceOrigin } from "../bench/origin";
import { LOAD_FIGURES } from "../test/support/figures";

const ROOT = resolve(__dirname, "../..");
const SPECS = [
  "dist/test/lab/faults.spec.js",
  "dist/test/lab/corpus.spec.js",
  "dist/test/unit/corpus.spec.js",
  "dist/test/lab/load.spec.js",
  "dist/test/lab/store.spec.js",
  "dist/test/lab/providers.spec.js",
  "dist/test/unit/posixApply.spec.js",
  "dist/test/engine/fleet.spec.js",
  "dist/test/unit/hostileSources.spec.js",
  "dist/test/engine/secrets.spec.js",
  "dist/test/lab/sshAlgorithms.spec.js",
];

interface MochaTest {
  fullTitle: string;
  title: string;
  duration?: number;
}
interface MochaRun {
  stats: { passes: number; failures: number; pending: number; duration: number };
  tests: MochaTest[];
  failures: MochaTest[];
  pending: MochaTest[];
}

interface Section {
  heading: string;
  match: (test: MochaTest) => boolean;
}

const SECTIONS: Section[] = [
  { heading: "Faults on real hosts", match: (test) => /^faults against lab hosts/.test(test.fullTitle) },
  { heading: "The apply script on a scratch store (hang-up, rollback, conflict, verification)", match: (test) => /^the POSIX apply script, run for real/.test(test.fullTitle) },
  { heading: "Load", match: (test) => /^load: /.test(test.fullTitle) },
  {
    heading: "Errors that name the cause",
    match: (test) => /^trust stores on lab hosts/.test(test.fullTitle) && /sudo|key|unpinned|auth|timeout|rolls back/.test(test.title),
  },
  { heading: "Reboots and health checks", match: (test) => /^providers called directly/.test(test.fullTitle) && /never comes back|health check|test command/.test(test.title) },
  { heading: "Bad certificate inputs", match: (test) => /^bad-input corpus \(test\/corpus\) certificate inputs/.test(test.fullTitle) },
  { heading: "Hostile values in shell quoting", match: (test) => /^bad-input corpus \(test\/corpus\) hostile values/.test(test.fullTitle) },
  { heading: "Bad configurations", match: (test) => /^bad-input corpus \(test\/corpus\) configuration/.test(test.fullTitle) },
  { heading: "Hostile values on a real host", match: (test) => /^hostile values on a real host/.test(test.fullTitle) },
  { heading: "Secrets", match: (test) => /^the real Pulumi engine/.test(test.fullTitle) && /secret/.test(test.title) },
  { heading: "Secrets shaped like JSON, YAML and PEM through the engine", match: (test) => /^secrets through the real Pulumi engine/.test(test.fullTitle) },
  { heading: "Hostile and careless sources", match: (test) => /^hostile and careless sources/.test(test.fullTitle) },
  { heading: "SSH host key algorithms", match: (test) => /^SSH host key algorithms/.test(test.fullTitle) },
];

function fail(message: string): never {
  console.error(`reliability: ${message}; docs/reliability.md was NOT written`);
  process.exit(1);
}

rmSync(LOAD_FIGURES, { force: true });
const output = join(mkdtempSync(join(tmpdir(), "trusted-roots-reliability-")), "mocha.json");
const run = spawnSync("npx", ["mocha", "--reporter", "json", "--reporter-option", `output=${output}`, ...SPECS], { cwd: ROOT, stdio: "inherit" });
if (!existsSync(output)) fail(`mocha produced no results (exit ${run.status})`);
const result = JSON.parse(readFileSync(output, "utf8")) as MochaRun;
if (result.pending.length > 0) {
  fail(`${result.pending.length} tests were skipped (${result.pending.slice(0, 3).map((test) => test.fullTitle).join("; ")}...): a report needs every test to run (root, Linux)`);
}
const failed = new Set(result.failures.map((test) => test.fullTitle));
const passed = (tests: MochaTest[]) => tests.filter((test) => !failed.has(test.fullTitle)).length;
const sectionTests = SECTIONS.map((section) => ({ section, tests: result.tests.filter(section.match) }));
const empty = sectionTests.filter(({ tests }) => tests.length === 0).map(({ section }) => section.heading);
if (empty.length > 0) fail(`no test of this run belongs to ${empty.map((heading) => JSON.stringify(heading)).join(", ")} (renamed or removed?)`);
if (!existsSync(LOAD_FIGURES)) fail("the load test ran but left no figures");
const load = JSON.parse(readFileSync(LOAD_FIGURES, "utf8")) as Record<string, number>;

const testsOf = (heading: string) => sectionTests.find(({ section }) => section.heading === heading)!.tests;
const row = (test: MochaTest) => `| ${test.title.replace(/\|/g, "\\|").replace(/\n/g, "\\n")} | ${failed.has(test.fullTitle) ? "**FAILED**" : "passed"} | ${((test.duration ?? 0) / 1000).toFixed(1)} s |`;
const faults = [...testsOf("Faults on real hosts"), ...testsOf("The apply script on a scratch store (hang-up, rollback, conflict, verification)")];
const inputs = ["Bad certificate inputs", "Hostile values in shell quoting", "Bad configurations", "Hostile values on a real host"].map((heading) => testsOf(heading));

const document = `# Reliability and security

Generated by \`npm run reliability\` (scripts/reliability-report.ts) from ${sourceOrigin()} on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores,
${cpus()[0]?.model ?? "unknown CPU"}, from one run of ${SPECS.length} spec files; every row is a test of that run.

## Figures

- Fault tests passed: ${passed(faults)} of ${faults.length}.
- Bad-input tests passed: ${inputs.map(passed).reduce((sum, count) => sum + count, 0)} of ${inputs.flat().length} (${inputs.map((tests, index) => `${tests.length} ${["certificate inputs", "hostile values in shell quoting", "configurations", "hostile-value runs on a real host"][index]}`).join(", ")}).
- Load: ${load.hosts} hosts applied in ${load.applySeconds.toFixed(1)} s and scanned in ${load.scanSeconds.toFixed(1)} s with at most ${load.peak} at once (limit ${load.concurrency}); leaked SSH sessions ${load.leakedSessions}, file descriptors ${load.fdsBefore} before and ${load.fdsAfter} after.
- Overall: ${result.stats.passes} passed, ${result.stats.failures} failed, ${result.stats.pending} skipped in ${(result.stats.duration / 1000).toFixed(0)} s.

${sectionTests.map(({ section, tests }) => [`### ${section.heading}`, "", "| case | result | time |", "|---|---|---|", ...tests.map(row), ""].join("\n")).join("\n")}`;

writeFileSync(join(ROOT, "docs/reliability.md"), document);
console.log(`docs/reliability.md written: ${result.stats.passes} passed, ${result.stats.failures} failed`);
process.exit(result.stats.failures > 0 ? 1 : 0);
