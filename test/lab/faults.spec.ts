import { strict as assert } from "node:assert";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { throwawayRoot } from "../../components/selftest/throwaway";
import { ApplyError, converge, observeStore, type StoreTarget } from "../../components/store";
import { mapWithConcurrency, TransportError, type SshTargetInput } from "../../components/transport";
import { describeLab, Lab, type LabHost, onLabSubnet } from "../support/lab";
import { TestPki } from "../support/pki";
import { waitUntil } from "../support/wait";

const ANCHORS = "/usr/local/share/ca-certificates";

describeLab("faults against lab hosts: nothing lost, nothing half-applied", function () {
  this.timeout(240_000);
  let lab: Lab;
  let roots: Certificate[];

  const target = (host: LabHost, overrides: Partial<SshTargetInput> = {}): StoreTarget => ({ connection: lab.connection(host, overrides), platform: "debian" });
  /** Anchors (names and contents), manifest and bundle: everything an apply touches. */
  const storeState = (host: LabHost) =>
    lab.sh(host, `cd ${ANCHORS} && for f in *; do [ -e "$f" ] && echo "$f $(sha256sum < "$f" | cut -c1-16)"; done; cat /var/lib/trusted-roots/manifest.json 2>/dev/null; sha256sum < /etc/ssl/certs/ca-certificates.crt`);
  const anchorFile = (root: Certificate) => `trusted-roots-${root.sha256.toLowerCase()}.crt`;
  const bundleHas = async (host: LabHost, root: Certificate) =>
    (await lab.sh(host, "cat /etc/ssl/certs/ca-certificates.crt")).includes(root.pem.split("\n")[1]);
  const slowRefresh = (host: LabHost, seconds: number) =>
    lab.writeFile(host, "/usr/local/sbin/update-ca-certificates", `#!/bin/sh\nsleep ${seconds}\nexec /usr/sbin/update-ca-certificates "$@"\n`, "755");

  before(async () => {
    lab = await Lab.start(3);
    const pki = new TestPki();
    roots = ["Alpha", "Bravo", "Charlie"].map((name) => parseCertificates(pki.root(name.toLowerCase(), `/CN=${name} Root`, { key: "ec256" }).pem)[0]);
  });

  after(async () => {
    await lab?.stop();
  });

  it("connection cut mid-apply: the host ends exactly as planned (the script ignores the hang-up and finishes), and the next run converges", async () => {
    const host = lab.hosts[0];
    // The refresh announces itself and waits for the test: the cut lands mid-apply on any machine.
    await lab.sh(host, "rm -f /run/trl-lab/refresh-started /run/trl-lab/release && mkfifo /run/trl-lab/release");
    await lab.writeFile(
      host,
      "/usr/local/sbin/update-ca-certificates",
      '#!/bin/sh\n: > /run/trl-lab/refresh-started\nread go < /run/trl-lab/release\nexec /usr/sbin/update-ca-certificates "$@"\n',
      "755",
    );
    const apply = converge(target(host, { commandTimeoutSeconds: 5 }), { roots: [roots[0]] }, "exact");
    await waitUntil(async () => (await lab.sh(host, "test -e /run/trl-lab/refresh-started && echo started || true")).trim() === "started", "the apply reached its refresh");
    await lab.link(host, "down");
    try {
      await assert.rejects(apply, (error: unknown) => error instanceof TransportError && ["timeout", "unreachable"].includes(error.failure));
      await lab.sh(host, "echo go > /run/trl-lab/release");
    } finally {
      await lab.link(host, "up");
    }
    // The script holds the host lock until its very end: taking it means the script finished.
    await lab.sh(host, "flock -w 300 /var/lib/trusted-roots/lock true");
    await lab.exec(host, "rm", "/usr/local/sbin/update-ca-certificates");
    const anchors = await lab.sh(host, `ls ${ANCHORS}`);
    assert.equal(anchors.trim(), anchorFile(roots[0]), "the planned anchor, and nothing else");
    assert.match(await lab.sh(host, "cat /var/lib/trusted-roots/manifest.json"), new RegExp(roots[0].sha256));
    assert.equal(await bundleHas(host, roots[0]), true, "the refresh ran to the end");
    const again = await converge(target(host), { roots: [roots[0]] }, "exact");
    assert.equal(again.changed, false);
  });

  it("a host that is down before the run: a clear 'unreachable' naming the host, after bounded retries", async () => {
    const host = lab.hosts[1];
    await lab.link(host, "down");
    const warnings: string[] = [];
    try {
      await assert.rejects(converge(target(host, { connectTimeoutSeconds: 2, retries: 1 }), { roots: [roots[0]] }, "exact", { warn: (message) => warnings.push(message) }), (error: unknown) => {
        assert.ok(error instanceof TransportError);
        assert.equal(error.failure, "unreachable");
        assert.match(error.message, onLabSubnet(/^root@10\.213\.0\.12: unreachable: /, lab));
        return true;
      });
      assert.equal(warnings.filter((warning) => /retrying in \d+ ms \(attempt 2 of 2\)/.test(warning)).length, 1);
    } finally {
      await lab.link(host, "up");
    }
  });

  it("a failing refresh on one host of a wave: that host is rolled back and reported, the others apply", async () => {
    const [good1, failing, good2] = lab.hosts;
    await lab.writeFile(failing, "/usr/local/sbin/update-ca-certificates", '#!/bin/sh\n[ "${1:-}" = --fresh ] && exec /usr/sbin/update-ca-certificates "$@"\necho "simulated refresh failure" >&2\nexit 1\n', "755");
    const before = await storeState(failing);
    const outcomes = await mapWithConcurrency(lab.hosts, 3, (host) =>
      converge(target(host), { roots: [roots[0], roots[1]] }, "exact").then(
        (result) => ({ host: host.name, ok: true as const, changed: result.changed }),
        (error: Error) => ({ host: host.name, ok: false as const, error }),
      ),
    );
    await lab.exec(failing, "rm", "/usr/local/sbin/update-ca-certificates");
    const failed = outcomes.filter((outcome) => !outcome.ok);
    assert.deepEqual(failed.map((outcome) => outcome.host), [failing.name]);
    const error = (failed[0] as { error: Error }).error;
    assert.ok(error instanceof ApplyError);
    assert.deepEqual([error.step, error.rolledBack], ["refresh", true]);
    assert.match(error.message, /simulated refresh failure/);
    assert.equal(await storeState(failing), before, "rolled back");
    for (const host of [good1, good2]) assert.equal(await bundleHas(host, roots[1]), true, host.name);
  });

  it("disk full during apply: rolled back with a clear error", async () => {
    const host = lab.hosts[2];
    await lab.sh(host, `mkdir -p /tmp/keep && cp -a ${ANCHORS}/. /tmp/keep/ && mount -t tmpfs -o size=16k tmpfs ${ANCHORS} && cp -a /tmp/keep/. ${ANCHORS}/ && (dd if=/dev/zero of=${ANCHORS}/filler bs=1k count=64 2>/dev/null || true)`);
    try {
      const before = await storeState(host);
      await assert.rejects(converge(target(host), { roots: [roots[0], roots[1], roots[2]] }, "exact"), (error: unknown) => {
        assert.ok(error instanceof ApplyError);
        assert.deepEqual([error.step, error.rolledBack], ["import", true]);
        assert.match(error.message, /No space left on device/);
        return true;
      });
      assert.equal(await storeState(host), before);
    } finally {
      await lab.sh(host, `umount ${ANCHORS} && rm -rf /tmp/keep`);
    }
  });

  it("a read-only store directory: a clear error, nothing changed", async () => {
    const host = lab.hosts[2];
    await lab.sh(host, `mount --bind ${ANCHORS} ${ANCHORS} && mount -o remount,ro,bind ${ANCHORS}`);
    try {
      const before = await storeState(host);
      await assert.rejects(converge(target(host), { roots: [roots[2]] }, "exact"), (error: unknown) => {
        assert.ok(error instanceof ApplyError);
        assert.equal(error.step, "import");
        assert.match(error.message, /Read-only file system/);
        return true;
      });
      assert.equal(await storeState(host), before);
    } finally {
      await lab.sh(host, `umount ${ANCHORS}`);
    }
  });

  it("a changed host key (another sshd with a new key on the same address) is refused, naming both fingerprints, before authenticating", async () => {
    const host = lab.hosts[1];
    await lab.sh(host, "pkill -x sshd; rm -f /etc/ssh/mitm_key*; ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/mitm_key && /usr/sbin/sshd -f /etc/ssh/trl_sshd_config -o HostKey=/etc/ssh/mitm_key -E /var/log/mitm.log");
    try {
      await assert.rejects(observeStore(target(host)), (error: unknown) => {
        assert.ok(error instanceof TransportError);
        assert.equal(error.failure, "host key mismatch");
        assert.match(error.message, /the server presented SHA256:\S+ but SHA256:\S+ is pinned; nothing was sent/);
        return true;
      });
      assert.equal((await lab.sh(host, "grep -c 'Accepted\\|Failed\\|Invalid user' /var/log/mitm.log || true")).trim(), "0");
    } finally {
      await lab.sh(host, "pkill -x sshd || true");
      await lab.reboot(host);
      await waitUntil(() => observeStore(target(host)).then(() => true, () => false), `${host.name} is back after its reboot`);
    }
  });

  it("two applies at once on one host: the host lock and the conflict check serialize them; no interleaved writes", async () => {
    const host = lab.hosts[0];
    await slowRefresh(host, 1);
    const [first, second] = await Promise.all([
      converge(target(host), { roots: [roots[0], roots[1]] }, "exact"),
      converge(target(host), { roots: [roots[0], roots[2]] }, "exact"),
    ]);
    await lab.exec(host, "rm", "/usr/local/sbin/update-ca-certificates");
    assert.ok(first.changed || second.changed);
    const anchors = (await lab.sh(host, `ls ${ANCHORS}`)).trim().split("\n").sort();
    const manifest = JSON.parse(await lab.sh(host, "cat /var/lib/trusted-roots/manifest.json")) as { roots: { sha256: string }[] };
    const declared = [[roots[0], roots[1]], [roots[0], roots[2]]].map((set) => set.map(anchorFile).sort());
    assert.ok(declared.some((set) => JSON.stringify(set) === JSON.stringify(anchors)), `the host holds exactly one declaration: ${anchors.join(", ")}`);
    assert.deepEqual(manifest.roots.map((root) => `trusted-roots-${root.sha256.toLowerCase()}.crt`).sort(), anchors, "manifest and anchors agree");
    const settled = await converge(target(host), { roots: anchors.map((file) => roots.find((root) => anchorFile(root) === file)!) }, "exact");
    assert.equal(settled.changed, false, "and the store is consistent (bundle included)");
  });

  it("eight declarations claiming, then releasing, one root on one host at once: all succeed, the root leaves with the last", async () => {
    const host = lab.hosts[2];
    const shared = throwawayRoot(new Date(), { commonName: "Shared Root" });
    const owners = Array.from({ length: 8 }, (_, index) => `stack-${index}/web-root`);
    await Promise.all(owners.map((owner) => converge(target(host), { roots: [shared], owner }, "exact")));
    const manifest = async () => JSON.parse(await lab.sh(host, "cat /var/lib/trusted-roots/manifest.json")) as { roots: { sha256: string; owners: string[] }[] };
    assert.deepEqual((await manifest()).roots.find((entry) => entry.sha256 === shared.sha256)?.owners, [...owners].sort());
    const released = await Promise.all(owners.map((owner) => converge(target(host), { roots: [], owner }, "exact")));
    assert.equal(released.filter((result) => result.plan.removals.some((removal) => removal.sha256 === shared.sha256)).length, 1, "removed once, by the last holder");
    assert.equal((await manifest()).roots.some((entry) => entry.sha256 === shared.sha256), false);
    assert.equal(await bundleHas(host, shared), false);
  });

  it("a scan during an apply, and two scans at once, all succeed", async () => {
    const host = lab.hosts[0];
    await slowRefresh(host, 2);
    const [applied, ...scans] = await Promise.all([
      converge(target(host), { roots: [roots[2]] }, "exact"),
      observeStore(target(host)),
      observeStore(target(host)),
    ]);
    await lab.exec(host, "rm", "/usr/local/sbin/update-ca-certificates");
    assert.equal(applied.changed, true);
    for (const scan of scans) assert.ok(scan.roots.length > 100);
  });
});
