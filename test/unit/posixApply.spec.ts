import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import type { Certificate } from "../../components/certificates";
import { plan } from "../../components/plan";
import { createPosixPlatform, type PosixLayout } from "../../components/platforms/posix";
import type { ObservedStore, Platform } from "../../components/platforms";
import { parseRecords } from "../../components/platforms/protocol";
import { CREATE_SCRATCH, removeScratch, scratchLayout } from "../../components/selftest/scratch";
import { throwawayRoot } from "../../components/selftest/throwaway";
import { ApplyError, applyWith, convergeWith, observeWith } from "../../components/store";
import type { ExecResult, ScriptRunner } from "../../components/transport";
import type { RemoteScript } from "../../components/platforms";
import { LocalShell } from "../support/localShell";
import { CrashingShell, withStepHook } from "../support/modelHost";

// The real POSIX apply script, run by a local sh against a scratch store (update-ca-certificates with its
// directory options): rollback, the conflict check, verification and the hang-up trap, without root or a host.

/** Waits for a file to appear: the script's own signal that it reached a step. */
async function waitForFile(path: string, limitMs = 120_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${limitMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the POSIX apply script, run for real on a scratch store", function () {
  // update-ca-certificates takes 0.6 to 4 s per run depending on the machine; each test runs it a few times.
  this.timeout(300_000);
  const shell = new LocalShell();
  let dir: string;
  let layout: PosixLayout;
  let real: Platform;
  let alpha: Certificate;
  let bravo: Certificate;

  /** Everything an apply touches: anchor names and contents, the manifest, the bundle. */
  const storeFiles = () => ({
    anchors: readdirSync(layout.anchorsDir).sort().map((name) => `${name}:${readFileSync(`${layout.anchorsDir}/${name}`, "base64")}`),
    manifest: existsSync(`${layout.stateDir}/manifest.json`) ? readFileSync(`${layout.stateDir}/manifest.json`, "utf8") : "absent",
    bundle: readFileSync(layout.bundlePath, "base64"),
    transactions: readdirSync(layout.stateDir!).filter((name) => name.startsWith("txn.")),
  });
  const observe = () => observeWith(shell, real, "Root");
  const trustedManaged = (observed: ObservedStore) =>
    observed.roots.filter((root) => root.trusted && root.origin === "managed").map((root) => root.sha256).sort();
  const withRefresh = (refreshCommand: PosixLayout["refreshCommand"]) => createPosixPlatform({ ...layout, refreshCommand });
  /** Alpha held by "first" and "second" too (beforeEach installed it for the default owner). */
  const converge2Owners = async () => {
    await convergeWith(shell, real, "Root", { roots: [alpha], owner: "first" }, "exact");
    const both = await convergeWith(shell, real, "Root", { roots: [alpha], owner: "second" }, "exact");
    assert.deepEqual(both.after.manifest.roots.map((entry) => entry.owners), [["first", "second", "trusted-roots"]]);
    return both.after;
  };

  before(async () => {
    alpha = throwawayRoot(new Date(), { commonName: "Alpha Scratch Root" });
    bravo = throwawayRoot(new Date(), { commonName: "Bravo Scratch Root" });
  });

  beforeEach(async () => {
    const created = parseRecords((await shell.exec({ command: "/bin/sh -s", stdin: CREATE_SCRATCH, elevation: "none" })).stdout);
    dir = created.find((record) => record.kind === "scratch")!.fields.join(" ");
    layout = scratchLayout(dir);
    real = createPosixPlatform(layout);
    execFileSync("sh", ["-c", `${layout.refreshCommand(true)} >/dev/null`]);
    // Alpha is installed and managed before each test.
    const installed = await applyWith(shell, real, plan({ roots: [alpha] }, await observe(), "exact"));
    assert.deepEqual(trustedManaged(installed), [alpha.sha256]);
  });

  afterEach(async () => {
    const removed = await shell.exec({ command: "/bin/sh -s", stdin: removeScratch(dir), elevation: "none" });
    assert.match(removed.stdout, /@@removed/);
  });

  it("paths reach the program as data: administrators' files named with quotes, $(...) and spaces are removed exactly, nothing runs", async () => {
    // (A line break in a name is not tried: update-ca-certificates itself fails on one.)
    const names = [`a'b $(touch pwned) "c".crt`, "x`id` y.crt"];
    for (const name of names) writeFileSync(`${layout.anchorsDir}/${name}`, bravo.pem);
    writeFileSync(`${layout.anchorsDir}/a'b.crt`, bravo.pem);
    execFileSync("sh", ["-c", `${layout.refreshCommand(true)} >/dev/null`]);
    const purged = await applyWith(shell, real, plan({ roots: [alpha] }, await observe(), "purgeUnmanaged"));
    assert.deepEqual(trustedManaged(purged), [alpha.sha256]);
    const left = readdirSync(layout.anchorsDir);
    for (const name of [...names, "a'b.crt"]) assert.equal(left.includes(name), false, `${JSON.stringify(name)} holds an undeclared root: purged`);
    assert.equal(existsSync(`${dir}/pwned`) || existsSync("pwned") || existsSync(`${layout.anchorsDir}/pwned`), false, "no file name ran as a command");
  });

  it("a failed refresh rolls back imports and removals: anchors, manifest and bundle exactly as before", async () => {
    const before = storeFiles();
    // The apply's refresh fails once; the rollback's refresh then works.
    const flaky = withRefresh(
      (afterRemoval) =>
        `if [ -e '${dir}/failed-once' ]; then ${layout.refreshCommand(afterRemoval)}; else : > '${dir}/failed-once'; echo 'simulated refresh failure' >&2; false; fi`,
    );
    const swap = plan({ roots: [bravo] }, await observe(), "exact");
    assert.deepEqual([swap.imports.length, swap.removals.length], [1, 1]);
    await assert.rejects(applyWith(shell, flaky, swap), (error: unknown) => {
      assert.ok(error instanceof ApplyError, String(error));
      assert.deepEqual([error.step, error.rolledBack], ["refresh", true]);
      assert.match(error.message, /simulated refresh failure/);
      assert.deepEqual(trustedManaged(error.observed!), [alpha.sha256]);
      return true;
    });
    assert.deepEqual(storeFiles(), before);
  });

  it("refuses to change anything when the manifest changed after it was observed (conflict)", async () => {
    const stale = plan({ roots: [alpha, bravo] }, await observe(), "exact");
    writeFileSync(`${layout.stateDir}/manifest.json`, readFileSync(`${layout.stateDir}/manifest.json`, "utf8") + " ");
    const before = storeFiles();
    await assert.rejects(applyWith(shell, real, stale), (error: unknown) => {
      assert.ok(error instanceof ApplyError, String(error));
      assert.deepEqual([error.step, error.rolledBack], ["conflict", true]);
      return true;
    });
    assert.deepEqual(storeFiles(), before);
  });

  it("converge observes and plans again after a conflict, then applies", async () => {
    // Another writer touches the manifest right after our first observation.
    let observations = 0;
    const racing: ScriptRunner = {
      label: "racing shell",
      exec: async (script: RemoteScript): Promise<ExecResult> => {
        const result = await shell.exec(script);
        if (/@@begin observe/.test(result.stdout) && ++observations === 1) {
          writeFileSync(`${layout.stateDir}/manifest.json`, readFileSync(`${layout.stateDir}/manifest.json`, "utf8") + "\n");
        }
        return result;
      },
    };
    const applies = () => shell.commands.filter((stdin) => stdin.includes("@@begin apply")).length;
    const appliesBefore = applies();
    const result = await convergeWith(racing, real, "Root", { roots: [alpha, bravo] }, "exact");
    assert.equal(applies() - appliesBefore, 2, "the first apply met the conflict, the second ran");
    assert.equal(result.changed, true);
    assert.deepEqual(trustedManaged(await observe()), [alpha.sha256, bravo.sha256].sort());
  });

  it("verifies after applying: a refresh that silently did nothing fails the apply at step verify", async () => {
    const inert = withRefresh(() => "true");
    await assert.rejects(applyWith(shell, inert, plan({ roots: [alpha, bravo] }, await observe(), "exact")), (error: unknown) => {
      assert.ok(error instanceof ApplyError, String(error));
      assert.equal(error.step, "verify");
      assert.match(error.message, /Bravo Scratch Root.* is not trusted/);
      return true;
    });
  });

  it("a manifest-only apply (a hold released) rewrites the manifest and runs no refresh", async () => {
    const shared = await converge2Owners();
    const noRefresh = withRefresh(() => "echo 'a refresh ran' >&2; false");
    const release = plan({ roots: [], owner: "second" }, shared, "exact");
    assert.deepEqual([release.removals.length, release.released.length, release.manifestChanged], [0, 1, true]);
    const after = await applyWith(shell, noRefresh, release);
    assert.deepEqual(after.manifest.roots.map((entry) => entry.owners), [["first", "trusted-roots"]]);
    assert.deepEqual(trustedManaged(after), [alpha.sha256]);
  });

  it("a rollback that cannot restore says so, keeps its backups and log, and never claims 'rolled back' (regression, issue 21)", async () => {
    // After the first change a saved copy becomes a directory: the refresh then fails, and so does the restore's cp.
    const sabotage: ScriptRunner = {
      label: "sabotaging shell",
      exec: (script) =>
        shell.exec({
          ...script,
          stdin: withStepHook(script.stdin, 'if [ "$1" -ge 1 ]; then for f in "$TXN"/saved.*; do if [ -f "$f" ]; then rm -f "$f"; mkdir "$f"; break; fi; done; fi'),
        }),
    };
    const failing = withRefresh((afterRemoval) => `! find "$TXN" -maxdepth 1 -type d -name 'saved.*' | grep -q . && ${layout.refreshCommand(afterRemoval)}`);
    const swap = plan({ roots: [bravo] }, await observe(), "exact");
    await assert.rejects(applyWith(sabotage, failing, swap), (error: unknown) => {
      assert.ok(error instanceof ApplyError, String(error));
      assert.equal(error.rolledBack, false);
      assert.match(error.message, /could NOT be fully restored/);
      assert.match(error.message, /backups and log are kept in .*txn\./);
      return true;
    });
    assert.equal(storeFiles().transactions.length, 1, "the transaction stays for the operator");
  });

  it("a crash at any step leaves a transaction the next apply rolls back before re-planning; the store then converges", async () => {
    const before = storeFiles();
    const swap = plan({ roots: [bravo] }, await observe(), "exact");
    // Killed (SIGKILL: no trap, no rollback) right after the first file changed.
    await assert.rejects(applyWith(new CrashingShell(1), real, swap));
    assert.equal(storeFiles().transactions.length, 1);
    assert.notDeepEqual(storeFiles().anchors, before.anchors, "the crash left the store half-changed");
    const result = await convergeWith(shell, real, "Root", { roots: [bravo] }, "exact");
    assert.equal(result.changed, true);
    assert.deepEqual(trustedManaged(await observe()), [bravo.sha256]);
    assert.deepEqual(storeFiles().transactions, []);
  });

  it("survives a hang-up and a closed output mid-apply: it finishes, exactly as planned", async () => {
    // The refresh announces itself, then blocks until the test releases it: the hang-up arrives while
    // the script is half-way, whatever the machine's speed.
    execFileSync("mkfifo", [`${dir}/release`]);
    const gated = withRefresh((afterRemoval) => `{ : > '${dir}/refresh-started'; read go < '${dir}/release'; ${layout.refreshCommand(afterRemoval)}; }`);
    const script = gated.applyScript(plan({ roots: [alpha, bravo] }, await observe(), "exact"));
    // exec: the process group holds the script's own shell, nothing in front of it.
    const child = spawn("sh", ["-c", `exec ${script.command}`], { detached: true, stdio: ["pipe", "pipe", "pipe"] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    child.stdin.end(script.stdin);
    await waitForFile(`${dir}/refresh-started`);
    // What sshd does when the connection drops: SIGHUP to the session's process group, and nobody reads.
    child.stdout.destroy();
    child.stderr.destroy();
    process.kill(-child.pid!, "SIGHUP");
    const release = await open(`${dir}/release`, "w");
    await release.write("go\n");
    await release.close();
    const { signal } = await exited;
    assert.equal(signal, null, `the script was killed by ${signal}`);
    assert.deepEqual(trustedManaged(await observe()), [alpha.sha256, bravo.sha256].sort());
    assert.deepEqual(storeFiles().transactions, [], "the transaction finished and cleaned up");
    rmSync(`${dir}/release`);
  });
});

describe("the record protocol", () => {
  it("reads records from LF and CRLF lines alike (PowerShell over SSH ends lines with CRLF) and skips other output", () => {
    assert.deepEqual(parseRecords("@@kind a b\r\nnoise\n@@empty\r\n@@last c\n"), [
      { kind: "kind", fields: ["a", "b"] },
      { kind: "empty", fields: [] },
      { kind: "last", fields: ["c"] },
    ]);
  });
});
