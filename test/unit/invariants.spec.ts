import { strict as assert } from "node:assert";
import { rmSync, writeFileSync } from "node:fs";
import { plan } from "../../components/plan";
import { applySteps } from "../../components/platforms/posix";
import { applyWith, convergeWith, observeWith } from "../../components/store";
import { TestPki } from "../support/pki";
import { ModelHost, ScriptedHost } from "../support/modelHost";
import { LocalShell } from "../support/localShell";
import { modelCertificates, replayHistory, runHistories, step, type CertName } from "../support/invariantsModel";
import type { Certificate } from "../../components/certificates";

describe("invariants over generated histories (fast-check, the real POSIX scripts on a model host)", function () {
  // A fixed time budget, not a count: the number of histories is whatever this machine runs in it.
  // TRL_PROPERTY_RUNS bounds the histories by count instead (the mutant runs: same histories on any machine);
  // TRL_PROPERTY_NO_SHRINK reports the first failure as found.
  const budgetSeconds = Number(process.env.TRL_PROPERTY_SECONDS ?? 60);
  const runs = process.env.TRL_PROPERTY_RUNS === undefined ? undefined : Number(process.env.TRL_PROPERTY_RUNS);
  this.timeout((budgetSeconds + 600) * 1000);
  const pki = new TestPki();
  let certs: Record<CertName, Certificate>;

  before(() => {
    certs = modelCertificates(pki);
  });

  after(() => rmSync(pki.dir, { recursive: true, force: true }));

  it("the lab's host reads the state as the model host does (the same histories run there over SSH)", async () => {
    const model = new ModelHost({ S1: certs.S1.pem });
    try {
      const scripted = new ScriptedHost(new LocalShell(), model.layout, model.shippedLine);
      await scripted.writeAnchor("corporate file.crt", certs.R1.pem + certs.R2.pem);
      await scripted.writeManifest('{"version":3,"roots":[],"distrusted":[]}');
      await scripted.writeConf("!S1.crt\n");
      await scripted.refresh(true);
      const [seen, expected] = [await scripted.state(), await model.state()];
      assert.deepEqual(seen, expected);
      assert.deepEqual([...seen.anchors.keys()], ["corporate file.crt"]);
      assert.deepEqual([...seen.trusted].sort(), [certs.R1.sha256, certs.R2.sha256].sort(), "S1 deselected, the file's two roots trusted");
      await scripted.removeAnchor("corporate file.crt");
      assert.deepEqual((await scripted.state()).anchors.size, 0);
    } finally {
      model.remove();
    }
  });

  it("counterexample (seed 1279012302): an intermediate whose root an administrator deletes while the manifest is damaged stays held by the declaration that recorded it, whose next run after the restore removes it", async () => {
    const host = new ModelHost({ S1: certs.S1.pem });
    try {
      const final = await replayHistory(certs, host, [
        step.adminAddsFile("corporate.crt", ["R1", "R2"]),
        step.declare("C", ["I1"], [], "additive"),
        step.manifest("corrupt"),
        // Stopped by the damaged manifest: C still holds I1 in what the tool last recorded.
        step.declare("C", [], [], "additive"),
        step.adminDeletesFile(),
        step.restoreManifest(),
        step.declare("C", [], [], "additive"),
      ]);
      assert.ok(!final.trusted.has(certs.R1.sha256), "the administrator's root R1 is gone");
      assert.ok(!final.trusted.has(certs.I1.sha256), "C's run after the restore removed I1, whose root is gone");
    } finally {
      await host.remove();
    }
  });

  it("counterexample (seed 1279012302): deleting a declaration whose root an administrator's file also holds leaves the CA store's intermediate under it", async () => {
    const host = new ModelHost({ S1: certs.S1.pem });
    try {
      const final = await replayHistory(certs, host, [
        step.declare("B", ["R1", "R2", "R3"], ["S1"], "additive"),
        step.adminAddsFile("extra.crt", ["R1"]),
        step.declare("C", ["I1"], [], "purgeUnmanaged"),
        step.delete("B"),
      ]);
      assert.ok(final.trusted.has(certs.R1.sha256), "the administrator's extra.crt keeps R1");
      assert.ok(final.trusted.has(certs.I1.sha256), "C still declares I1, and its root R1 stays trusted");
    } finally {
      await host.remove();
    }
  });

  it("counterexample (seed 1284352173): a hold on an administrator's copy, in a manifest from before stores, ends with its owner's delete after another store rewrote the manifest", async () => {
    const host = new ModelHost({ S1: certs.S1.pem });
    try {
      const final = await replayHistory(certs, host, [
        step.adminAddsFile("corporate.crt", ["R2", "I1"]),
        step.declare("B", ["R2"], [], "additive"),
        step.declare("C", [], [], "additive"),
        step.manifest("old-format"),
        step.rename("C"),
        step.delete("B"),
      ]);
      assert.equal(final.manifest?.includes("B-1"), false, "the deleted declaration holds nothing");
      assert.ok(final.trusted.has(certs.R2.sha256), "the administrator's copy stays");
    } finally {
      await host.remove();
    }
  });

  it("counterexample (seed 1): a deleted declaration's hold on a root whose file an OS update dropped, and an administrator's copy now provides, ends with the delete", async () => {
    const host = new ModelHost({ S1: certs.S1.pem });
    try {
      const final = await replayHistory(certs, host, [
        step.declare("A", ["R3"], [], "additive"),
        step.osUpdateDropsOwnFiles(["R3", "I1"]),
        step.adminAddsFile("corporate.crt", ["R3", "I1"]),
        step.delete("A"),
      ]);
      assert.equal(final.manifest?.includes("A-1"), false, "the deleted declaration holds nothing");
      assert.ok(final.trusted.has(certs.R3.sha256), "the administrator's copy stays");
    } finally {
      host.remove();
    }
  });

  it("an OS update that rewrites ca-certificates.conf after an interrupted distrust keeps its lines when the next apply recovers (the rollback restores only what the apply itself wrote)", async () => {
    const host = new ModelHost({ S1: certs.S1.pem });
    try {
      const desired = { roots: [], distrusted: [certs.S1], owner: "stack/web" };
      const storePlan = plan(desired, await observeWith(host.runner, host.platform, "Root"), "exact");
      // The crash right after the deselect: the conf says !S1.crt, the manifest does not know it yet.
      const afterDeselect = applySteps(host.layout, storePlan) - 2;
      await assert.rejects(applyWith(host.crashingAt(afterDeselect), host.platform, storePlan));
      assert.equal((await host.state()).conf, "!S1.crt\n");
      // The ca-certificates package ships S3 and its maintainer script adds the line, keeping the others.
      writeFileSync(`${host.dir}/share/S3.crt`, certs.R3.pem);
      await host.writeConf("!S1.crt\nS3.crt\n");
      await host.refresh(false);
      // The next run has something to do (R1 too), so its apply meets the interrupted transaction first.
      const after = await convergeWith(host.runner, host.platform, "Root", { ...desired, roots: [certs.R1] }, "exact");
      const state = await host.state();
      assert.equal(state.conf, "!S1.crt\nS3.crt\n", "the OS's line stays (a rollback to the saved conf would drop S3)");
      assert.ok(state.trusted.has(certs.R3.sha256), "the newly shipped root is trusted");
      assert.ok(!state.trusted.has(certs.S1.sha256), "S1 is distrusted, as declared");
      assert.ok(state.trusted.has(certs.R1.sha256), "R1 is trusted, as declared");
      // The kept conf carries this apply's !S1.crt among the OS's lines, and nothing tells the two apart: the
      // distrust holds, but as one the tool did not make (a later undeclare leaves it; docs/architecture.md, limits).
      assert.deepEqual(after.after.manifest.distrusted, []);
      assert.deepEqual(after.after.manifest.roots.map((entry) => entry.sha256), [certs.R1.sha256]);
      assert.deepEqual(state.transactions, []);
    } finally {
      host.remove();
    }
  });

  it("I1-I6 hold after every step of every history (seeded; a failure prints its seed and a shrunk history)", async () => {
    // CI gates a landing on seed 1 (its histories pass, and the mutants prove they catch each break); every
    // other run explores a new seed, and what it finds becomes a named test.
    const seed = Number(process.env.TRL_PROPERTY_SEED ?? (process.env.CI === "true" ? 1 : Date.now() % 2 ** 31));
    const started = Date.now();
    const { histories, steps } = await runHistories({
      certs,
      seed,
      maxCommands: 14,
      budget: runs === undefined ? { seconds: budgetSeconds } : { runs, shrink: process.env.TRL_PROPERTY_NO_SHRINK !== "1" },
      host: async () => {
        const host = new ModelHost({ S1: certs.S1.pem });
        return { host, release: async () => host.remove() };
      },
    });
    console.log(`      invariants: ${histories} histories, ${steps} steps in ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${seed} (TRL_PROPERTY_SEED=${seed} replays them)`);
    assert.ok(histories >= 5, `only ${histories} histories ran in ${budgetSeconds} s: too few to mean anything`);
  });
});
