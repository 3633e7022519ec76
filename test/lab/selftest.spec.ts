import { strict as assert } from "node:assert";
import { join } from "node:path";
import { runCli } from "../support/cli";
import { describeLab, Lab, type LabHost, onLabSubnet } from "../support/lab";

describeLab("trusted-roots selftest against a lab host", function () {
  this.timeout(120_000);
  let lab: Lab;
  const env = () => ({ TRUSTED_ROOTS_PRIVATE_KEY_FILE: join(lab.dir, "client_key") });
  // Everything the self-test could conceivably touch, byte for byte.
  const snapshot = (host: LabHost) =>
    lab.sh(
      host,
      "ls -la --time-style=full-iso /usr/local/share/ca-certificates /etc/ssl/certs | sha256sum; sha256sum /etc/ssl/certs/ca-certificates.crt /etc/ca-certificates.conf; " +
        "ls -a /var/lib/trusted-roots 2>&1; ls -a /tmp",
    );

  before(async () => {
    lab = await Lab.start(1);
  });

  after(async () => {
    await lab?.stop();
  });

  it("runs the whole cycle in a scratch store, reports each step with its time, and leaves the host exactly as it was", async () => {
    const host = lab.hosts[0];
    const before = await snapshot(host);
    const result = await runCli(["selftest", "--host", host.address, "--platform", "debian", "--host-key", host.hostKey, "--json"], env());
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const report = JSON.parse(result.stdout) as { passed: boolean; steps: { step: string; ok: boolean; ms: number; detail: string }[] };
    assert.equal(report.passed, true);
    assert.deepEqual(report.steps.map((step) => step.step.replace(/ trusted-roots selftest [0-9a-f]+/, "")), [
      "observe the real store (read-only)",
      "create a scratch store in /tmp",
      "observe it with the production observe script",
      "import the throw-away root with the production apply script",
      "remove it again",
      "delete a scratch store in /tmp",
      "observe the real store again: untouched",
    ]);
    assert.ok(report.steps.every((step) => step.ok && step.ms >= 0));
    assert.match(report.steps[1].detail, /^\/tmp\/trusted-roots-selftest\.[A-Za-z0-9]+, built with update-ca-certificates/);
    assert.match(report.steps[2].detail, /^[1-9][0-9]* roots in the scratch store$/);
    assert.match(report.steps[3].detail, /trusted in the scratch store/);
    assert.equal(await snapshot(host), before);
  });

  it("prints a readable report by default", async () => {
    const host = lab.hosts[0];
    const result = await runCli(["selftest", "--host", host.address, "--platform", "debian", "--host-key", host.hostKey], env());
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^ok {4}observe the real store \(read-only\) +\d+ ms {2}\d+ trusted roots/m);
    assert.match(result.stdout, onLabSubnet(/selftest passed on 10\.213\.0\.11/, lab));
  });

  it("refuses platforms without a scratch cycle, and a wrong host key before any step", async () => {
    const host = lab.hosts[0];
    const rhel = await runCli(["selftest", "--host", host.address, "--platform", "rhel", "--host-key", host.hostKey], env());
    assert.equal(rhel.code, 1);
    assert.match(rhel.stderr, /selftest supports debian and windows/);
    const otherKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJIE8IEFghAsivcI7cPLoCQ9aaYYkDQdUE8nvlByC9Pu";
    const mismatch = await runCli(["selftest", "--host", host.address, "--platform", "debian", "--host-key", otherKey], env());
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /host key mismatch/);
  });
});
