import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { parseCertificates, type Certificate } from "../../components/certificates";
import * as afterChange from "../../components/resources/afterChangeProvider";
import * as trustStore from "../../components/resources/trustStoreProvider";
import { rootChanges, toRootInputs, TRUST_STORE_PROVIDER_VERSION, type TrustStoreOutputs } from "../../components/resources/trustStoreCore";
import type { AfterChangeOutputs } from "../../components/resources/afterChangeCore";
import { describeLab, Lab, type LabHost, onLabSubnet } from "../support/lab";
import { storeId as importableId } from "../../components/resources/trustStoreImport";
import { TestPki } from "../support/pki";

type Inputs = Record<string, unknown>;

describeLab("providers called directly against lab hosts", function () {
  this.timeout(180_000);
  let lab: Lab;
  const pki = new TestPki();
  let contoso: Certificate;
  let client: { cert: string; key: string };

  const storeInputs = (host: LabHost, roots: Certificate[]): Inputs => ({
    providerVersion: TRUST_STORE_PROVIDER_VERSION,
    connection: lab.connection(host),
    platform: "debian",
    store: "Root",
    roots: toRootInputs(roots),
    distrusted: {},
    mode: "exact",
    retainOnDelete: false,
  });
  const healthCheck = (host: LabHost) => ({ url: `https://${host.address}/`, clientCertificate: client, caCertificate: lab.serverCa, timeoutSeconds: 20, intervalSeconds: 0.5 });
  const storeId = (host: LabHost) => importableId(lab.connection(host), "debian", "Root");
  const afterChangeInputs = (host: LabHost, extra: Inputs): Inputs => ({
    providerVersion: "1",
    connection: lab.connection(host),
    platform: "debian",
    revision: "r1",
    changed: true,
    ...extra,
  });

  before(async () => {
    lab = await Lab.start(3);
    const root = pki.root("contoso", "/O=Contoso/CN=Contoso Root CA G2");
    [contoso] = parseCertificates(root.pem);
    const issued = pki.issue("alice", "/CN=alice", root);
    client = { cert: readFileSync(issued.certPath, "utf8"), key: readFileSync(issued.keyPath, "utf8") };
  });

  after(async () => {
    await lab?.stop();
  });

  describe("TrustStore", () => {
    let state: TrustStoreOutputs;
    const host = () => lab.hosts[0];

    it("check refuses an intermediate, a leaf and an empty host, naming the property", async () => {
      const issuing = pki.issue("issuing", "/CN=Issuing CA", pki.root("parent", "/CN=Parent"), { ca: true });
      const leaf = pki.issue("leafcert", "/CN=leaf", pki.root("parent2", "/CN=Parent 2"));
      const inputs = storeInputs(host(), parseCertificates(issuing.pem + leaf.pem));
      const result = await trustStore.check({}, inputs);
      const reasons = (result.failures ?? []).map((failure) => `${failure.property}: ${failure.reason}`);
      const [issuingCertificate, leafCertificate] = parseCertificates(issuing.pem + leaf.pem);
      assert.match(reasons.join("\n"), new RegExp(`roots\\["${issuingCertificate.sha256}"\\]: "CN=Issuing CA" .*is an intermediate CA.*"CA" store`));
      assert.match(reasons.join("\n"), new RegExp(`roots\\["${leafCertificate.sha256}"\\]: "CN=leaf" .*is not a CA certificate`));
      const missingHost = await trustStore.check({}, { ...storeInputs(host(), [contoso]), connection: { ...lab.connection(host()), host: "" } });
      assert.deepEqual(missingHost.failures?.map((failure) => failure.property), ["connection.host"]);
    });

    it("create imports, and a client certificate then gets HTTP 200 from nginx", async () => {
      const checked = await trustStore.check({}, storeInputs(host(), [contoso]));
      assert.deepEqual(checked.failures, undefined);
      const created = await trustStore.create(checked.inputs as Inputs);
      state = created.outs as TrustStoreOutputs;
      assert.equal(created.id, storeId(host()));
      assert.deepEqual([state.changed, state.imported], [true, [contoso.subject]]);
      assert.deepEqual(state.observed.managed.map((root) => [root.sha256, root.trusted]), [[contoso.sha256, true]]);
      assert.equal("pem" in state.roots[contoso.sha256], false, "the PEM is in the inputs only, not stored twice");
      const inSync = await trustStore.read(storeId(host()), state as unknown as Inputs);
      assert.equal((inSync.inputs as { roots: Record<string, { pem: string }> }).roots[contoso.sha256].pem, contoso.pem, "a refresh reads the PEM back from the host");
      const reload = afterChange.create(afterChangeInputs(host(), { kind: "restart", preset: "nginx", healthCheck: healthCheck(host()) }));
      const restarted = (await reload).outs as AfterChangeOutputs;
      assert.deepEqual([restarted.acted, restarted.healthStatus], [true, 200]);
      assert.equal(await lab.httpsStatus(host(), client), 200);
    });

    it("read after someone deleted the root on the host reports the drift, and diff sees it", async () => {
      await lab.sh(host(), `rm /usr/local/share/ca-certificates/trusted-roots-${contoso.sha256.toLowerCase()}.crt && update-ca-certificates --fresh >/dev/null`);
      const refreshed = await trustStore.read(storeId(host()), state as unknown as Inputs);
      const live = refreshed.inputs as TrustStoreOutputs;
      assert.deepEqual(Object.keys(live.roots), [], "the live view lacks the lost root");
      assert.deepEqual(rootChanges(live, state), [`+ roots: CN=Contoso Root CA G2, O=Contoso (SHA-256 ${contoso.sha256})`]);
      const difference = await trustStore.diff(refreshed.id!, refreshed.props as Inputs, storeInputs(host(), [contoso]));
      assert.equal(difference.changes, true);
      assert.deepEqual(difference.replaces, []);
      const noDrift = await trustStore.diff(refreshed.id!, state as unknown as Inputs, storeInputs(host(), [contoso]));
      assert.equal(noDrift.changes, false, "without the refresh the state still matches the program");
      state = refreshed.props as TrustStoreOutputs;
    });

    it("update repairs the drift with a new revision; a second update is a no-op with the same revision", async () => {
      const repaired = (await trustStore.update(storeId(host()), state as unknown as Inputs, storeInputs(host(), [contoso]))).outs as TrustStoreOutputs;
      assert.deepEqual([repaired.changed, repaired.imported], [true, [contoso.subject]]);
      assert.notEqual(repaired.revision, state.revision);
      const again = (await trustStore.update(storeId(host()), repaired as unknown as Inputs, storeInputs(host(), [contoso]))).outs as TrustStoreOutputs;
      assert.deepEqual([again.changed, again.imported, again.revision], [false, [], repaired.revision]);
      state = again;
    });

    it("a host rename with the same pinned key is an update; a new host with a new key is a replacement", async () => {
      const renamed = { ...storeInputs(host(), [contoso]), connection: { ...lab.connection(host()), host: "web01.lab" } };
      assert.deepEqual((await trustStore.diff("x", state as unknown as Inputs, renamed)).replaces, []);
      const other = storeInputs(lab.hosts[1], [contoso]);
      assert.deepEqual((await trustStore.diff("x", state as unknown as Inputs, other)).replaces, ["connection"]);
    });

    it("delete removes the roots it manages; retainOnDelete keeps them", async () => {
      const second = lab.hosts[1];
      const kept = (await trustStore.create(storeInputs(second, [contoso]))).outs as TrustStoreOutputs;
      await trustStore.deleteStore("x", { ...kept, retainOnDelete: true } as unknown as Inputs);
      assert.match(await lab.sh(second, "ls /usr/local/share/ca-certificates"), /trusted-roots-/);
      await trustStore.deleteStore("x", state as unknown as Inputs);
      assert.equal((await lab.sh(host(), "ls /usr/local/share/ca-certificates")).trim(), "");
      const observed = await trustStore.read("x", state as unknown as Inputs);
      assert.deepEqual(Object.keys((observed.inputs as TrustStoreOutputs).roots), []);
    });
  });

  describe("HostReboot", () => {
    it("does nothing on create when the store did not change", async () => {
      const outs = (await afterChange.create(afterChangeInputs(lab.hosts[2], { kind: "reboot", changed: false }))).outs as AfterChangeOutputs;
      assert.deepEqual([outs.acted, outs.bootIdBefore], [false, undefined]);
    });

    it("reboots, waits through the outage for a new boot id, then passes the health check", async () => {
      const host = lab.hosts[2];
      const bootIdBefore = (await lab.exec(host, "cat", "/proc/sys/kernel/random/boot_id")).trim();
      await trustStore.create(storeInputs(host, [contoso]));
      const outs = (await afterChange.create(afterChangeInputs(host, { kind: "reboot", delaySeconds: 1, timeoutSeconds: 60, healthCheck: healthCheck(host), testCommand: "test -s /etc/ssl/certs/ca-certificates.crt" }))).outs as AfterChangeOutputs;
      assert.equal(outs.acted, true);
      assert.equal(outs.bootIdBefore, bootIdBefore);
      assert.notEqual(outs.bootIdAfter, bootIdBefore);
      assert.equal(outs.bootIdAfter, (await lab.exec(host, "cat", "/proc/sys/kernel/random/boot_id")).trim());
      assert.equal(outs.healthStatus, 200);
    });

    it("onlyIfPending: a host that owes no reboot is not rebooted (the checks still run); one that owes one is", async () => {
      const host = lab.hosts[2];
      await lab.sh(host, "rm -f /var/run/reboot-required");
      const quiet = (await trustStore.create(storeInputs(host, [contoso]))).outs as TrustStoreOutputs;
      assert.equal(quiet.observed.pendingReboot, false);
      const bootId = (await lab.exec(host, "cat", "/proc/sys/kernel/random/boot_id")).trim();
      const skipped = (await afterChange.create(afterChangeInputs(host, { kind: "reboot", onlyIfPending: true, pendingReboot: quiet.observed.pendingReboot, healthCheck: healthCheck(host) }))).outs as AfterChangeOutputs;
      assert.deepEqual([skipped.acted, skipped.rebootSkipped, skipped.bootIdAfter, skipped.healthStatus], [true, true, undefined, 200]);
      assert.equal((await lab.exec(host, "cat", "/proc/sys/kernel/random/boot_id")).trim(), bootId, "not rebooted");
      // Debian's own mark of an owed reboot, as unattended-upgrades leaves it.
      await lab.sh(host, "touch /var/run/reboot-required");
      const owed = (await trustStore.read(storeId(host), quiet as unknown as Inputs)).props as TrustStoreOutputs;
      assert.equal(owed.observed.pendingReboot, true);
      const rebooted = (await afterChange.create(afterChangeInputs(host, { kind: "reboot", onlyIfPending: true, pendingReboot: owed.observed.pendingReboot, delaySeconds: 1, timeoutSeconds: 60 }))).outs as AfterChangeOutputs;
      assert.equal(rebooted.rebootSkipped, undefined);
      assert.notEqual(rebooted.bootIdAfter, bootId);
      await lab.sh(host, "rm -f /var/run/reboot-required");
    });

    it("an update acts only when the store's revision changed", async () => {
      const host = lab.hosts[2];
      const olds = afterChangeInputs(host, { kind: "reboot", revision: "r7", timeoutSeconds: 60 });
      const sameRevision = (await afterChange.update("x", olds, { ...olds, timeoutSeconds: 90 })).outs as AfterChangeOutputs;
      assert.equal(sameRevision.acted, false);
      assert.equal((await afterChange.diff("x", { ...olds, acted: true, seconds: 3 }, olds)).changes, false);
      assert.equal((await afterChange.diff("x", olds, { ...olds, revision: "r8" })).changes, true);
    });

    it("fails with the host and the timeout when the host never comes back", async () => {
      const host = lab.hosts[1];
      try {
        await assert.rejects(
          afterChange.create(afterChangeInputs(host, { kind: "reboot", rebootCommand: "nohup sh -c 'sleep 1; ip link set eth0 down' >/dev/null 2>&1 &", timeoutSeconds: 8 })),
          onLabSubnet(/root@10\.213\.0\.12: did not come back with a new boot id within 8 s of the reboot; last seen: .*unreachable/, lab),
        );
      } finally {
        await lab.link(host, "up");
      }
    });

    it("a failing health check fails the rollout with what was expected and what came back", async () => {
      const host = lab.hosts[0];
      const withoutClientCertificate = { url: `https://${host.address}/`, caCertificate: lab.serverCa, timeoutSeconds: 3, intervalSeconds: 0.5 };
      await assert.rejects(
        afterChange.create(afterChangeInputs(host, { kind: "verify", healthCheck: withoutClientCertificate })),
        onLabSubnet(/root@10\.213\.0\.11: health check https:\/\/10\.213\.0\.11\/ expected HTTP 200 but got HTTP 400 \(\d+ attempts in \d+ s\)/, lab),
      );
    });

    it("a failing test command fails the rollout, naming it", async () => {
      await assert.rejects(
        afterChange.create(afterChangeInputs(lab.hosts[0], { kind: "restart", command: "true", testCommand: "exit 3" })),
        onLabSubnet(/root@10\.213\.0\.11: the test command failed after the restart: .*exit code 3/, lab),
      );
    });
  });
});
