import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCertificates, type Certificate } from "../../components/certificates";
import type { AfterChangeOutputs } from "../../components/resources/afterChangeCore";
import * as afterChange from "../../components/resources/afterChangeProvider";
import type { ScanReport } from "../../components/scan/report";
import { converge, observeStore } from "../../components/store";
import type { SshTargetInput } from "../../components/transport";
import { runCli } from "../support/cli";
import { describeLab, Lab, type LabHost } from "../support/lab";
import { TestPki } from "../support/pki";
import { waitUntil } from "../support/wait";

// The machine's own address on the lab bridge: the hidden host refuses every SSH login from it.
const denyMachine = (machineAddress: string) => `\nMatch Address ${machineAddress}\n  DenyUsers *\n`;

describeLab("hosts behind a bastion (ssh2 forwardOut, like ssh -J)", function () {
  this.timeout(600_000);
  let lab: Lab;
  let bastion: LabHost;
  let hidden: LabHost;
  let contoso: Certificate;
  let client: { cert: string; key: string };

  const throughBastion = (bastionKey = bastion.hostKey): SshTargetInput => ({
    ...lab.connection(hidden),
    bastion: { host: bastion.address, port: bastion.port, user: "root", hostKey: bastionKey, privateKey: lab.clientKey },
  });
  const refusedDirectly = () => observeStore({ connection: lab.connection(hidden), platform: "debian" }).then(() => false, (error: Error) => /auth failed/.test(error.message));

  before(async () => {
    lab = await Lab.start(2);
    [bastion, hidden] = lab.hosts;
    const pki = new TestPki();
    const root = pki.root("bastion", "/O=Contoso/CN=Contoso Bastion Root");
    contoso = parseCertificates(root.pem)[0];
    const issued = pki.issue("alice", "/CN=alice", root);
    client = { cert: readFileSync(issued.certPath, "utf8"), key: readFileSync(issued.keyPath, "utf8") };
    await lab.sh(hidden, `printf '${denyMachine(lab.machineAddress).replace(/\n/g, "\\n")}' >> /etc/ssh/trl_sshd_config && kill -HUP "$(cat /run/sshd.pid)"`);
    await waitUntil(refusedDirectly, "the hidden host refuses logins from this machine");
  });

  after(async () => {
    await lab?.stop();
  });

  it("a direct login is refused; through the bastion the store is observed, applied and verified", async () => {
    assert.equal(await refusedDirectly(), true);
    const result = await converge({ connection: throughBastion(), platform: "debian" }, { roots: [contoso] }, "exact");
    assert.equal(result.changed, true);
    assert.match(await lab.sh(hidden, "ls /usr/local/share/ca-certificates"), new RegExp(`trusted-roots-${contoso.sha256.toLowerCase()}\\.crt`));
    const logins = await lab.sh(hidden, "grep 'Accepted publickey' /var/log/trl-sshd.log | tail -1");
    assert.match(logins, new RegExp(`from ${bastion.address.replace(/\./g, "\\.")} `), "the login came from the bastion");
  });

  it("the HTTPS health check goes through the bastion too, where this machine has no route to the site", async () => {
    // The hidden site refuses this machine's address, as a site behind a jump host is out of reach.
    // In the server's rewrite phase, before the location's own `return` (a `deny` would come after it).
    await lab.sh(hidden, `sed -i 's|^    listen \\(.*\\):443 ssl;|&\\n    if ($remote_addr = ${lab.machineAddress}) { return 403; }|' /etc/nginx/nginx.conf && nginx -t 2>/dev/null && nginx -s reload`);
    await waitUntil(async () => (await lab.httpsStatus(hidden, client).catch(() => 0)) === 403, "the hidden site refuses this machine");
    const healthCheck = { url: `https://${hidden.address}/`, clientCertificate: client, caCertificate: lab.serverCa, timeoutSeconds: 30, intervalSeconds: 0.5 };
    const outs = (await afterChange.create({ connection: throughBastion(), platform: "debian", revision: "r2", changed: true, kind: "verify", healthCheck })).outs as AfterChangeOutputs;
    assert.equal(outs.healthStatus, 200);
  });

  it("a reboot through the bastion waits for the new boot id", async () => {
    const before = (await lab.exec(hidden, "cat", "/proc/sys/kernel/random/boot_id")).trim();
    const outs = (
      await afterChange.create({ connection: throughBastion(), platform: "debian", revision: "r1", changed: true, kind: "reboot", delaySeconds: 1, timeoutSeconds: 120 })
    ).outs as AfterChangeOutputs;
    assert.equal(outs.bootIdBefore, before);
    assert.notEqual(outs.bootIdAfter, before);
  });

  it("a bastion with a wrong key is refused like any host, before anything is sent to the server", async () => {
    await assert.rejects(observeStore({ connection: throughBastion(hidden.hostKey), platform: "debian" }), /\(bastion\): host key mismatch/);
  });

  it("trusted-roots scan reaches the hidden host through the bastion named in the inventory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trusted-roots-bastion-"));
    writeFileSync(join(dir, "contoso.crt"), contoso.pem);
    writeFileSync(
      join(dir, "inventory.json"),
      JSON.stringify({
        servers: [{ name: "hidden", host: hidden.address, platform: "debian", hostKey: hidden.hostKey, groups: ["web"], bastion: { host: bastion.address, hostKey: bastion.hostKey, shareServerKey: true } }],
        rootSets: { contoso: { files: ["contoso.crt"] } },
        groups: { web: { roots: ["contoso"] } },
      }),
    );
    const result = await runCli(["scan", "--inventory", join(dir, "inventory.json"), "--json"], { TRUSTED_ROOTS_PRIVATE_KEY_FILE: join(lab.dir, "client_key") }, dir);
    const report = JSON.parse(result.stdout) as ScanReport;
    assert.deepEqual([result.code, report.hosts[0].status], [0, "in-sync"], result.stdout + result.stderr);
  });
});
