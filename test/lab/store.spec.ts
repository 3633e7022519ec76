import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { plan } from "../../components/plan";
import { platformFor } from "../../components/platforms";
import { applyPlan, ApplyError, converge, observeStore, type StoreTarget } from "../../components/store";
import { mapWithConcurrency, SshSession, TransportError, withSession, type SshTargetInput } from "../../components/transport";
import { describeLab, Lab, type LabHost, onLabSubnet } from "../support/lab";
import { TestPki, type TestCertificate } from "../support/pki";
import { waitUntil } from "../support/wait";

describeLab("trust stores on lab hosts", function () {
  this.timeout(180_000);
  let lab: Lab;
  const pki = new TestPki();
  let contosoRoot: TestCertificate;
  let fabrikamRoot: TestCertificate;
  let clientCert: { cert: string; key: string };
  let contoso: Certificate;
  let fabrikam: Certificate;

  const target = (host: LabHost, overrides: Partial<SshTargetInput> = {}): StoreTarget => ({
    connection: lab.connection(host, overrides),
    platform: "debian",
  });
  const reloadNginx = (host: LabHost) =>
    withSession(lab.connection(host), (session) => session.run({ command: "nginx -s reload", stdin: "", elevation: "sudo" }));
  // Everything an apply may touch, byte for byte.
  const storeSnapshot = (host: LabHost) =>
    lab.sh(
      host,
      "ls -l --time-style=full-iso /usr/local/share/ca-certificates; cat /var/lib/trusted-roots/manifest.json 2>/dev/null; " +
        "sha256sum /etc/ssl/certs/ca-certificates.crt; ls -l --time-style=full-iso /etc/ssl/certs/ca-certificates.crt",
    );

  before(async () => {
    lab = await Lab.start(3);
    contosoRoot = pki.root("contoso", "/O=Contoso/CN=Contoso Root CA G2");
    fabrikamRoot = pki.root("fabrikam", "/O=Fabrikam/CN=Fabrikam Root", { key: "ec256" });
    const client = pki.issue("client", "/CN=alice", contosoRoot);
    clientCert = { cert: readFileSync(client.certPath, "utf8"), key: readFileSync(client.keyPath, "utf8") };
    [contoso] = parseCertificates(contosoRoot.pem);
    [fabrikam] = parseCertificates(fabrikamRoot.pem);
  });

  after(async () => {
    await lab?.stop();
  });

  it("observes every host's store, one session each", async () => {
    const observed = await mapWithConcurrency(lab.hosts, 3, (host) => observeStore(target(host)));
    for (const [index, store] of observed.entries()) {
      const host = lab.hosts[index];
      assert.equal(store.bootId, (await lab.exec(host, "cat", "/proc/sys/kernel/random/boot_id")).trim());
      const bundleCount = Number((await lab.sh(host, "grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt")).trim());
      assert.ok(bundleCount > 100);
      assert.equal(store.roots.filter((root) => root.trusted).length, bundleCount);
      assert.ok(store.roots.every((root) => root.origin === "system"));
      assert.deepEqual(store.manifest.roots, []);
      assert.deepEqual(store.warnings, []);
    }
    assert.notEqual(observed[0].bootId, observed[1].bootId);
  });

  it("imports a private root: nginx rejects the client certificate before and accepts it after", async () => {
    const host = lab.hosts[0];
    assert.equal(await lab.httpsStatus(host, clientCert), 400);
    const result = await converge(target(host), { roots: [contoso] }, "exact");
    assert.equal(result.changed, true);
    assert.deepEqual(result.plan.imports.map((root) => root.sha256), [contoso.sha256]);
    const imported = result.after.roots.find((root) => root.sha256 === contoso.sha256);
    assert.ok(imported, "the root is observed after apply");
    assert.deepEqual([imported.trusted, imported.origin], [true, "managed"]);
    assert.deepEqual(imported.locations, [`/usr/local/share/ca-certificates/trusted-roots-${contoso.sha256.toLowerCase()}.crt`]);
    assert.deepEqual(result.after.manifest.roots.map((root) => root.sha256), [contoso.sha256]);
    await reloadNginx(host);
    assert.equal(await lab.settledHttpsStatus(host, clientCert, 200), 200);
    assert.equal(await lab.httpsStatus(lab.hosts[1], clientCert), 400, "the other hosts' stores are their own");
  });

  it("re-applying the same declaration changes nothing and runs no refresh", async () => {
    const host = lab.hosts[0];
    const before = await storeSnapshot(host);
    const result = await converge(target(host), { roots: [contoso] }, "exact");
    assert.equal(result.changed, false);
    assert.deepEqual([result.plan.imports, result.plan.removals], [[], []]);
    assert.equal(await storeSnapshot(host), before, "anchors, manifest and bundle (content and mtime) are unchanged");
  });

  it("exact mode removes a root that is no longer declared, and trust is really revoked", async () => {
    const host = lab.hosts[0];
    const result = await converge(target(host), { roots: [fabrikam] }, "exact");
    assert.deepEqual(
      result.plan.removals.map((removal) => [removal.sha256, removal.reason]),
      [[contoso.sha256, "no longer desired"]],
    );
    assert.ok(!result.after.roots.some((root) => root.sha256 === contoso.sha256), "the removed root is gone from the bundle");
    assert.deepEqual(result.after.manifest.roots.map((root) => root.sha256), [fabrikam.sha256]);
    await reloadNginx(host);
    assert.equal(await lab.settledHttpsStatus(host, clientCert, 400), 400);
  });

  it("additive mode keeps managed roots that are no longer declared", async () => {
    const result = await converge(target(lab.hosts[0]), { roots: [contoso] }, "additive");
    assert.deepEqual(result.plan.removals, []);
    const managed = result.after.roots.filter((root) => root.origin === "managed" && root.trusted).map((root) => root.sha256);
    assert.deepEqual(managed.sort(), [contoso.sha256, fabrikam.sha256].sort());
  });

  it("leaves foreign anchors alone unless purgeUnmanaged, then removes them, hostile file name included", async () => {
    const host = lab.hosts[1];
    const hostileName = "/usr/local/share/ca-certificates/$(touch pwned-name);'`touch pwned-tick`'.crt";
    await lab.plantLocalAnchor(host, hostileName, fabrikamRoot.pem);
    const exact = await converge(target(host), { roots: [contoso] }, "exact");
    assert.deepEqual(exact.plan.foreign.map((root) => [root.sha256, root.locations]), [[fabrikam.sha256, [hostileName]]]);
    assert.deepEqual(exact.plan.removals, []);
    const purge = await converge(target(host), { roots: [contoso] }, "purgeUnmanaged");
    assert.deepEqual(
      purge.plan.removals.map((removal) => [removal.files, removal.reason]),
      [[[hostileName], "not declared (purgeUnmanaged)"]],
    );
    assert.ok(!purge.after.roots.some((root) => root.sha256 === fabrikam.sha256));
    assert.equal((await lab.sh(host, "ls -a / /tmp /root")).includes("pwned"), false);
  });

  it("hostile subjects travel as data and never execute", async () => {
    const host = lab.hosts[2];
    const hostileSubjects = [
      "/CN=$(touch \\/tmp\\/pwned-1)",
      "/CN=a'; touch \\/tmp\\/pwned-2; echo '",
      "/CN=`touch \\/tmp\\/pwned-3`",
      "/CN=x\\;y|z&& touch \\/tmp\\/pwned-4 #",
    ];
    const roots = hostileSubjects.map((subject, index) => parseCertificates(pki.root(`hostile-${index}`, subject).pem)[0]);
    assert.ok(roots.some((root) => root.subject.includes("$(touch")));
    const result = await converge(target(host), { roots }, "exact");
    assert.equal(result.plan.imports.length, 4);
    assert.equal(result.after.roots.filter((root) => root.origin === "managed" && root.trusted).length, 4);
    assert.deepEqual(
      result.after.manifest.roots.map((root) => root.subject).sort(),
      roots.map((root) => root.subject).sort(),
      "subjects are stored verbatim in the manifest",
    );
    assert.equal((await lab.sh(host, "ls -a / /tmp /root")).includes("pwned"), false);
  });

  it("rolls back a failed refresh: anchors, manifest and bundle exactly as before", async () => {
    const host = lab.hosts[2];
    // A refresh that fails unless called with --fresh (which the rollback uses).
    await lab.writeFile(
      host,
      "/usr/local/sbin/update-ca-certificates",
      '#!/bin/sh\n[ "${1:-}" = --fresh ] && exec /usr/sbin/update-ca-certificates "$@"\necho "simulated failure: disk on fire" >&2\nexit 1\n',
      "755",
    );
    const before = await storeSnapshot(host);
    const storePlan = plan({ roots: [contoso] }, await observeStore(target(host)), "additive");
    assert.equal(storePlan.imports.length, 1);
    await assert.rejects(applyPlan(target(host), storePlan), (error: unknown) => {
      assert.ok(error instanceof ApplyError);
      assert.deepEqual([error.step, error.rolledBack], ["refresh", true]);
      assert.match(error.message, onLabSubnet(/^root@10\.213\.0\.13: apply failed at step "refresh": .*disk on fire.*restored/s, lab));
      return true;
    });
    const after = await storeSnapshot(host);
    // The rollback refresh rewrites the bundle with the same content, so compare all but its mtime.
    const withoutMtime = (snapshot: string) => snapshot.replace(/^-.*ca-certificates\.crt$/m, "");
    assert.equal(withoutMtime(after), withoutMtime(before));
    await lab.exec(host, "rm", "/usr/local/sbin/update-ca-certificates");
  });

  it("works as a non-root user through sudo -n, by key and by password", async () => {
    const host = lab.hosts[1];
    const byKey = await observeStore(target(host, { user: "deploy" }));
    assert.ok(byKey.roots.length > 100);
    const byPassword = await observeStore(target(host, { user: "deploy", privateKey: undefined, password: lab.deployPassword }));
    assert.equal(byPassword.bootId, byKey.bootId);
  });

  it("authenticates with an encrypted private key and through an ssh-agent", async () => {
    const host = lab.hosts[0];
    const scratch = mkdtempSync(join(tmpdir(), "trusted-roots-agent-"));
    const encrypted = join(scratch, "key");
    writeFileSync(encrypted, lab.clientKey, { mode: 0o600 });
    execFileSync("ssh-keygen", ["-q", "-p", "-N", "correct horse", "-f", encrypted]);
    const encryptedKey = readFileSync(encrypted, "utf8");
    assert.match(encryptedKey, /BEGIN OPENSSH PRIVATE KEY/);
    const byPassphrase = await observeStore(target(host, { privateKey: encryptedKey, passphrase: "correct horse" }));
    await assert.rejects(observeStore(target(host, { privateKey: encryptedKey, passphrase: "wrong" })), /auth failed: the private key cannot be used/);
    const socket = join(scratch, "agent.sock");
    const plainKey = join(scratch, "plain");
    writeFileSync(plainKey, lab.clientKey, { mode: 0o600 });
    const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    await waitUntil(() => existsSync(socket), "ssh-agent listens");
    execFileSync("ssh-add", ["-q", plainKey], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: "ignore", timeout: 5000 });
    try {
      const byAgent = await observeStore(target(host, { privateKey: undefined, agent: socket }));
      assert.equal(byAgent.bootId, byPassphrase.bootId);
    } finally {
      agent.kill();
    }
  });

  it("abandons a command that runs past its timeout, naming the host and the limit", async () => {
    await assert.rejects(
      withSession(lab.connection(lab.hosts[0], { commandTimeoutSeconds: 1 }), (session) =>
        session.run({ command: "sleep 5", stdin: "", elevation: "none" }),
      ),
      onLabSubnet(/TransportError: root@10\.213\.0\.11: timeout: the command ran longer than 1 s and was abandoned$/, lab),
    );
  });

  it("a user without sudo rights gets a clear error", async () => {
    await assert.rejects(observeStore(target(lab.hosts[1], { user: "nosudo" })), (error: unknown) => {
      assert.ok(error instanceof TransportError);
      assert.equal(error.failure, "sudo refused");
      assert.match(error.message, onLabSubnet(/^nosudo@10\.213\.0\.12: sudo refused: user nosudo may not run '\/bin\/sh -s' through 'sudo -n'/, lab));
      return true;
    });
  });

  it("refuses a host whose key does not match the pin, naming both fingerprints, before authenticating", async () => {
    const [first, second] = lab.hosts;
    const authLines = () => lab.sh(first, "grep -c 'Accepted\\|Failed\\|Invalid' /var/log/trl-sshd.log || true");
    const before = await authLines();
    await assert.rejects(observeStore(target(first, { hostKey: second.hostKey })), (error: unknown) => {
      assert.ok(error instanceof TransportError);
      assert.equal(error.failure, "host key mismatch");
      assert.match(error.message, /presented SHA256:[A-Za-z0-9+/]{43} but SHA256:[A-Za-z0-9+/]{43} is pinned; nothing was sent/);
      return true;
    });
    assert.equal(await authLines(), before, "no authentication was attempted");
  });

  it("refuses an unpinned host unless insecureSkipHostKeyCheck, which warns", async () => {
    const host = lab.hosts[0];
    await assert.rejects(observeStore(target(host, { hostKey: undefined })), /host key not pinned/);
    const warnings: string[] = [];
    await observeStore(target(host, { hostKey: undefined, insecureSkipHostKeyCheck: true }), { warn: (message) => warnings.push(message) });
    assert.match(warnings.join("\n"), /insecureSkipHostKeyCheck is set: the server's identity is NOT verified/);
  });

  it("tells a wrong key (auth failed) from a closed port (unreachable, retried)", async () => {
    const otherKey = readFileSync(`${lab.dir}/hosts/h1/files/etc/ssh/trl_host_ed25519_key`, "utf8");
    await assert.rejects(observeStore(target(lab.hosts[0], { privateKey: otherKey })), /auth failed: the server refused user root/);
    const warnings: string[] = [];
    await assert.rejects(
      observeStore(target(lab.hosts[0], { port: 2222, retries: 1 }), { warn: (message) => warnings.push(message) }),
      /unreachable: ECONNREFUSED/,
    );
    assert.equal(warnings.filter((warning) => /retrying in \d+ ms \(attempt 2 of 2\)/.test(warning)).length, 1);
  });

  it("reboots a host and sees a new boot id once it is back", async () => {
    const host = lab.hosts[1];
    const platform = platformFor("debian");
    const bootId = () =>
      withSession(lab.connection(host), async (session) => platform.parseBootId((await session.run(platform.bootIdScript())).stdout));
    const before = await bootId();
    await withSession(lab.connection(host), (session) => session.run(platform.rebootScript(0)));
    let after = before;
    await waitUntil(async () => platform.rebootedSince(before, (after = await bootId().catch(() => before))), `${host.name} is back with a new boot id`);
    assert.match(after.id, /^[0-9a-f-]{36}$/);
    assert.notEqual(after.id, before.id);
  });

  it("one connection serves observe, apply and verify", async () => {
    const host = lab.hosts[2];
    const accepted = async () => Number((await lab.sh(host, "grep -c 'Accepted publickey' /var/log/trl-sshd.log || true")).trim());
    const before = await accepted();
    const result = await converge(target(host), { roots: [contoso, fabrikam] }, "exact");
    assert.equal(result.changed, true);
    assert.equal(await accepted(), before + 1);
    await SshSession.open(lab.connection(host)).then((session) => session.close());
    assert.equal(await accepted(), before + 2, "the counter does count connections");
  });
});
