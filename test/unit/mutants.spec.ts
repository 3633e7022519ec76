import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * The invariant test must fail when the feature it guards is broken. Each mutant is a one-line break of the
 * compiled code behind one invariant (docs/architecture.md, "The invariants"); the property test runs against it
 * over a fixed number of seeded histories (the same histories on any machine, however fast) and must report the
 * violation. A mutant that survives means the invariant test has gone blind there.
 */
interface Mutant {
  invariant: string;
  /** What the break does, in words. */
  breaks: string;
  file: string;
  from: string;
  to: string;
  /** What the property test must report. */
  caughtAs: RegExp;
  seed: number;
  runs: number;
}

const MUTANTS: Mutant[] = [
  {
    invariant: "I1",
    breaks: "a root another declaration still holds is removed when one holder lets go",
    file: "components/plan/index.js",
    from: "owners.others(root.sha256).length > 0) {",
    to: "owners.others(root.sha256).length > 1) {",
    caughtAs: /I1: \w+ is declared by .* but not trusted/,
    seed: 1,
    runs: 400,
  },
  {
    invariant: "I2",
    breaks: "retiring a root deletes every file holding it, an administrator's too",
    file: "components/plan/index.js",
    from: 'if (reason === "no longer desired" || reason === "issuer no longer trusted")\n        return own;',
    to: 'if (reason === "no longer desired" || reason === "issuer no longer trusted")\n        return root.locations;',
    caughtAs: /I2: .* was removed by .*, which may not remove it/,
    seed: 1,
    runs: 400,
  },
  {
    invariant: "I3",
    breaks: "exact mode keeps what no declaration holds any more (acts like additive)",
    file: "components/plan/index.js",
    from: 'if (ours && mode !== "additive")',
    to: 'if (ours && mode === "purgeUnmanaged")',
    // The manifest then keeps the deleted holder: I5's check of the manifest's holders sees it first.
    caughtAs: /I[35]: /,
    seed: 1,
    runs: 400,
  },
  {
    invariant: "I4",
    breaks: "a distrust is taken as already in place and never applied",
    file: "components/plan/index.js",
    from: "const satisfied = (sha256) => ",
    to: "const satisfied = (sha256) => true || ",
    caughtAs: /I4: \w+ is distrusted by .* but trusted/,
    seed: 1,
    runs: 400,
  },
  {
    invariant: "I4 (chains)",
    breaks: "an intermediate this tool installed stays when its issuer is no longer trusted",
    file: "components/plan/index.js",
    from: "if (ours && chain.applies && !chain.keeps(root))",
    to: "if (ours && chain.applies && false)",
    caughtAs: /I4: I1 is trusted without its root R1/,
    // The break shows only after four steps in order (a root installed, an intermediate under it, the root gone
    // behind the tool's back, the CA store run in additive mode): about one history in a thousand. Seed 1 met it
    // at history 391, and at none of 1,000 once the OS update dropping the tool's files joined the commands; this
    // seed's fourth history has the four steps (seeds screened by replaying their generated steps in a sketch of
    // the model, no host). A change to the commands reshuffles every seed's histories: screen again then.
    seed: 454,
    runs: 100,
  },
  {
    invariant: "I5",
    breaks: "a manifest that cannot be read is taken as empty instead of stopping the apply",
    file: "components/plan/index.js",
    from: "if (observed.manifestProblem)\n        throw",
    to: "if (observed.manifestProblem && false)\n        throw",
    caughtAs: /I5: /,
    seed: 1,
    runs: 400,
  },
  {
    invariant: "I6",
    breaks: "an apply no longer recovers an interrupted one before it starts",
    file: "components/platforms/posix.js",
    from: "\ntrusted_roots_recover\n# Planned",
    to: "\n:\n# Planned",
    caughtAs: /I6: /,
    seed: 1,
    runs: 400,
  },
  {
    invariant: "I6 (rollback)",
    breaks: "an interrupted apply is discarded instead of rolled back (the next apply still converges)",
    file: "components/platforms/posix.js",
    from: 'if [ -e "$t/committed" ] || [ ! -e "$t/rollback" ]; then rm -rf "$t"; continue; fi',
    to: 'rm -rf "$t"; continue',
    caughtAs: /I6: after a crash the host is wholly as before the apply/,
    seed: 1,
    runs: 400,
  },
];

const DIST = resolve(__dirname, "../..");
const REPO = resolve(DIST, "..");

describe("the invariant test catches a one-line break of each invariant (mutants of the compiled code)", function () {
  // Fixed histories, not a time budget: a slow machine takes longer, never sees fewer.
  this.timeout(30 * 60_000);
  let work: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), "trusted-roots-mutants-"));
    symlinkSync(join(REPO, "node_modules"), join(work, "node_modules"));
    cpSync(join(REPO, ".mocharc.json"), join(work, ".mocharc.json"));
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  for (const mutant of MUTANTS) {
    it(`${mutant.invariant}: ${mutant.breaks}`, () => {
      const copy = join(work, "dist");
      rmSync(copy, { recursive: true, force: true });
      cpSync(DIST, copy, { recursive: true });
      const target = join(copy, mutant.file);
      const source = readFileSync(target, "utf8");
      assert.equal(source.split(mutant.from).length - 1, 1, `the mutant's line must occur once in ${mutant.file}: the code changed, update the mutant`);
      writeFileSync(target, source.replace(mutant.from, () => mutant.to));
      const run = spawnSync(process.execPath, [join(REPO, "node_modules/mocha/bin/mocha.js"), "dist/test/unit/invariants.spec.js"], {
        cwd: work,
        encoding: "utf8",
        env: { ...process.env, TRL_PROPERTY_SEED: String(mutant.seed), TRL_PROPERTY_RUNS: String(mutant.runs), TRL_PROPERTY_NO_SHRINK: "1" },
        maxBuffer: 64 * 1024 * 1024,
      });
      // The property's own failure, not a named history's: the spec file's named counterexamples fail too, and
      // alone they would keep this green while the generated histories no longer reach the break.
      const found = /Property failed after (\d+) tests/.exec(run.stdout)?.[1];
      const cause = /Caused by: AssertionError[^:]*: ([^\n]*)/.exec(run.stdout)?.[1];
      assert.ok(found !== undefined && cause !== undefined, `the mutant survived ${mutant.runs} generated histories (seed ${mutant.seed}): the invariant test no longer sees "${mutant.breaks}"\n${run.stdout.slice(-2000)}`);
      assert.match(cause, mutant.caughtAs);
      console.log(`      caught after ${found} of at most ${mutant.runs} histories: ${cause.slice(0, 110)}`);
    });
  }
});
