import { strict as assert } from "node:assert";
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Certificate } from "../../components/certificates";
import { DEBIAN_LAYOUT } from "../../components/platforms/debian";
import { SshSession } from "../../components/transport";
import { modelCertificates, runHistories, type CertName } from "../support/invariantsModel";
import { describeLab, Lab, type LabHost } from "../support/lab";
import { ScriptedHost } from "../support/modelHost";
import { TestPki } from "../support/pki";

const ANCHORS = DEBIAN_LAYOUT.anchorsDir;
/** The shipped root S1, where Debian's package would put it, and its ca-certificates.conf line. */
const SHIPPED_LINE = "trl-model/S1.crt";
/** What update-ca-certificates writes (the bundle, hash links), and the baseline's copy of it on the host. */
const CERTS = dirname(DEBIAN_LAYOUT.bundlePath);
const BASELINE_CERTS = "/var/tmp/trl-baseline-certs";
/**
 * How many of Debian's ~140 shipped roots the host's ca-certificates.conf selects, beside S1: an operator's
 * trimmed selection, the others' lines left out. update-ca-certificates works per selected root (some eight
 * processes each, and --fresh clears and relinks them all), so a refresh costs a tenth; every path the
 * histories exercise is the same (selected shipped roots, S1's line, local anchors, --fresh). The same 10
 * histories: 48 s with all selected, 16 s with 8. The full selection is the other lab tests' (distrust.spec's
 * shipped roots) and shippedRoots.spec's (a distrust among ~140).
 */
const SELECTED_SHIPPED = 8;

// The unit phase runs the same histories on a model host whose refresh is a stand-in. Here every step runs on a
// real host over SSH: the production Debian layout, the real update-ca-certificates (--fresh after removals),
// the real /etc/ca-certificates.conf with S1 shipped under /usr/share/ca-certificates, crashes by SIGKILL of
// the remote shell at a step of the apply. A count of histories, not a time budget (TRL_LAB_PROPERTY_RUNS,
// default 60: about 250 steps and 110 applies, some 1.5 s a history here with the trimmed selection above, most
// of it the real update-ca-certificates; the unit phase runs the same commands over hundreds of histories a
// minute, so this run's job is the real tool and SSH).
describeLab("invariants over generated histories on a real host (real update-ca-certificates, over SSH)", function () {
  const runs = Number(process.env.TRL_LAB_PROPERTY_RUNS ?? 60);
  // A refresh of the real store takes 0.7 to 3 s here; a machine five times slower still finishes.
  this.timeout(runs * 10 * 60_000);
  const pki = new TestPki();
  let lab: Lab;
  let host: LabHost;
  let certs: Record<CertName, Certificate>;
  let baselineConf: string;

  before(async () => {
    lab = await Lab.start(1);
    host = lab.hosts[0];
    certs = modelCertificates(pki);
    await lab.sh(host, "mkdir -p /usr/share/ca-certificates/trl-model");
    await lab.writeFile(host, `/usr/share/ca-certificates/${SHIPPED_LINE}`, certs.S1.pem);
    const shippedConf = (await lab.exec(host, "cat", "/etc/ca-certificates.conf")).split("\n");
    const selected = shippedConf.filter((line) => /^[^#!]/.test(line));
    assert.ok(selected.length > SELECTED_SHIPPED, `the host's ca-certificates.conf selects Debian's shipped roots (${selected.length} found)`);
    baselineConf = [...shippedConf.filter((line) => line.startsWith("#")), ...selected.slice(0, SELECTED_SHIPPED), SHIPPED_LINE].map((line) => `${line}\n`).join("");
    await lab.writeFile(host, "/etc/ca-certificates.conf", baselineConf);
    await lab.sh(host, `find ${ANCHORS} -mindepth 1 -delete && update-ca-certificates --fresh >/dev/null 2>&1 && cp -a ${CERTS} ${BASELINE_CERTS}`);
  });

  after(async () => {
    await lab?.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  /**
   * Back to the baseline: no anchors, no manifest, S1 selected, and /etc/ssl/certs as the real
   * update-ca-certificates --fresh built it once in `before` (copied back in 0.2 s: a fresh refresh per history
   * took 2.3 to 2.9 s here and wrote the same files).
   */
  const reset = async () => {
    await lab.writeFile(host, "/etc/ca-certificates.conf", baselineConf);
    await lab.sh(host, `find ${ANCHORS} -mindepth 1 -delete && rm -rf /var/lib/trusted-roots ${CERTS} && cp -a ${BASELINE_CERTS} ${CERTS}`);
  };

  it("I1-I6 hold after every step of every history", async () => {
    const seed = Number(process.env.TRL_PROPERTY_SEED ?? Date.now() % 2 ** 31);
    const started = Date.now();
    let applies = 0; // counted as they reach the host
    const { histories, steps } = await runHistories({
      certs,
      seed,
      maxCommands: 10,
      budget: { runs, shrink: false },
      host: async () => {
        await reset();
        const session = await SshSession.open(lab.connection(host));
        const counting = { label: session.label, exec: (...args: Parameters<SshSession["exec"]>) => ((applies += args[0].stdin.includes("@@begin apply") ? 1 : 0), session.exec(...args)) };
        return { host: new ScriptedHost(counting, DEBIAN_LAYOUT, SHIPPED_LINE), release: async () => session.close() };
      },
    });
    console.log(`      lab invariants: ${histories} histories, ${steps} steps, ${applies} applies in ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${seed} (TRL_PROPERTY_SEED=${seed} replays them)`);
    assert.equal(histories, runs);
    assert.ok(applies > 0, "no apply ran: the histories did not reach the host");
  });
});
