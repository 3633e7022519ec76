import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { aliasFor } from "../../components/keystores";
import { CACERTS_PASSWORD } from "../../components/platforms/java";
import * as afterChange from "../../components/resources/afterChangeProvider";
import type { AfterChangeOutputs } from "../../components/resources/afterChangeCore";
import * as trustStore from "../../components/resources/trustStoreProvider";
import { toRootInputs, TRUST_STORE_PROVIDER_VERSION, type TrustStoreOutputs } from "../../components/resources/trustStoreCore";
import type { ScanReport } from "../../components/scan/report";
import { runCli } from "../support/cli";
import { describeLab, Lab, type LabHost } from "../support/lab";
import { TestPki } from "../support/pki";
import { startTomcat, TOMCAT_PORT, tomcatAnswer } from "../support/tomcat";
import { trustedEntries } from "../support/keytool";

type Inputs = Record<string, unknown>;

// Java stores on real hosts: Debian's Tomcat 10 with a connector that requires client certificates and checks them
// against an application truststore; a bundled JDK's cacerts replaced by an "upgrade"; keytool inside the host.

const TRUSTSTORE = "/etc/trl-lab/client-cas.p12";
const TRUSTSTORE_PASSWORD = "tomcat-truststore-pass";
const BUNDLED_JDK = "/opt/app/jdk";
const BUNDLED_CACERTS = `${BUNDLED_JDK}/lib/security/cacerts`;

describeLab("Java stores on lab hosts: Tomcat's truststore, a bundled JDK's cacerts", function () {
  this.timeout(300_000);
  let lab: Lab;
  let dir: string;
  const pki = new TestPki();
  let contoso: Certificate;
  let renewed: Certificate;
  let admins: Certificate;
  let client: { cert: string; key: string };
  /** The bundled JDK's cacerts as it shipped: what an upgrade puts back. */
  let jdkCacerts: Buffer;

  const h1 = () => lab.hosts[0];
  const h2 = () => lab.hosts[1];
  const javaInputs = (host: LabHost, roots: Certificate[], keystore: Inputs, password?: string): Inputs => ({
    providerVersion: TRUST_STORE_PROVIDER_VERSION,
    connection: lab.connection(host),
    platform: "debian",
    store: "Java",
    keystore,
    ...(password ? { keystorePassword: password } : {}),
    roots: toRootInputs(roots),
    distrusted: {},
    mode: "exact",
    retainOnDelete: false,
    owner: `lab/java/${host.name}`,
  });
  const truststore = { kind: "file", path: TRUSTSTORE };
  /** keytool inside the host: alias -> SHA-256 of each trusted entry. */
  const keytoolEntries = async (host: LabHost, path: string, password: string) => {
    return trustedEntries(await lab.exec(host, "keytool", "-list", "-v", "-keystore", path, "-storepass", password));
  };
  const sha256Of = async (host: LabHost, path: string) => (await lab.exec(host, "sha256sum", path)).split(" ")[0];

  const tomcat = (host: LabHost) => tomcatAnswer(lab, host, client);

  before(async () => {
    lab = await Lab.start(2);
    dir = mkdtempSync(join(tmpdir(), "trusted-roots-java-lab-"));
    const root = pki.root("contoso", "/O=Contoso/CN=Contoso Client CA");
    [contoso] = parseCertificates(root.pem);
    [renewed] = parseCertificates(pki.root("contoso-renewed", "/O=Contoso/CN=Contoso Client CA").pem);
    [admins] = parseCertificates(pki.root("admins", "/CN=Admin's Own Root").pem);
    const alice = pki.issue("alice", "/CN=alice", root);
    client = { cert: readFileSync(alice.certPath, "utf8"), key: readFileSync(alice.keyPath, "utf8") };

    // h1: Tomcat 10 with a client-certificate connector; its truststore holds only the administrator's own root.
    await startTomcat(lab, h1(), { path: TRUSTSTORE, password: TRUSTSTORE_PASSWORD, initialPem: admins.pem });

    // h2: an application's bundled JDK, its cacerts as the JDK shipped it (here: Debian's), holding the roots the
    // host's OS ships and no others: the machine's own cacerts also holds this machine's local CAs when
    // update-ca-certificates last ran with them (the lab's hosts leave the machine's local CAs out).
    await lab.sh(h2(), `mkdir -p ${BUNDLED_JDK}/lib/security ${BUNDLED_JDK}/bin && ln -s /usr/lib/jvm/java-17-openjdk-amd64/bin/keytool ${BUNDLED_JDK}/bin/keytool`);
    await lab.writeFile(h2(), BUNDLED_CACERTS, readFileSync("/etc/ssl/certs/java/cacerts"));
    const shippedByOs = new Set(parseCertificates(await lab.exec(h2(), "cat", "/etc/ssl/certs/ca-certificates.crt")).map((cert) => cert.sha256));
    for (const [alias, sha256] of await keytoolEntries(h2(), BUNDLED_CACERTS, CACERTS_PASSWORD)) {
      if (!shippedByOs.has(sha256)) await lab.exec(h2(), "keytool", "-delete", "-alias", alias, "-keystore", BUNDLED_CACERTS, "-storepass", CACERTS_PASSWORD);
    }
    jdkCacerts = Buffer.from(await lab.exec(h2(), "base64", "-w", "0", BUNDLED_CACERTS), "base64");
  });

  after(async () => {
    await lab?.stop();
  });

  it("Tomcat refuses the client certificate, then after the Java store's apply and the tomcat preset's restart answers 200", async () => {
    const before = await tomcat(h1());
    assert.notEqual(before, 200, `before: ${before}`);
    assert.equal(typeof before, "string", "a refused handshake, not an HTTP status");

    const checked = await trustStore.check({}, javaInputs(h1(), [contoso], truststore, TRUSTSTORE_PASSWORD));
    assert.equal(checked.failures, undefined);
    const created = await trustStore.create(checked.inputs as Inputs);
    const state = created.outs as TrustStoreOutputs;
    assert.deepEqual([state.changed, state.imported], [true, [contoso.subject]]);
    assert.match(created.id, /\/debian\/Java\/[0-9a-f]{32}$/, "the id names the keystore");
    assert.deepEqual(await keytoolEntries(h1(), TRUSTSTORE, TRUSTSTORE_PASSWORD), new Map([["admins-root", admins.sha256], [aliasFor(contoso.der, contoso.commonName), contoso.sha256]]));
    assert.notEqual(await tomcat(h1()), 200, "the JVM reads its truststore at start: still refused before the restart");

    const restarted = (
      await afterChange.create({
        providerVersion: "1",
        connection: lab.connection(h1()),
        platform: "debian",
        revision: state.revision,
        changed: true,
        kind: "restart",
        preset: "tomcat",
        healthCheck: { url: `https://${h1().address}:${TOMCAT_PORT}/`, clientCertificate: client, caCertificate: lab.serverCa, timeoutSeconds: 120, intervalSeconds: 0.5 },
      })
    ).outs as AfterChangeOutputs;
    assert.deepEqual([restarted.acted, restarted.healthStatus], [true, 200]);
    assert.equal(await tomcat(h1()), 200);

    // A renewed root under the same subject replaces the old one: identity is the fingerprint, not the alias or name.
    const renewal = (await trustStore.update(created.id, state as unknown as Inputs, javaInputs(h1(), [renewed], truststore, TRUSTSTORE_PASSWORD))).outs as TrustStoreOutputs;
    assert.deepEqual([renewal.imported, renewal.removed], [[renewed.subject], [contoso.subject]]);
    assert.deepEqual(await keytoolEntries(h1(), TRUSTSTORE, TRUSTSTORE_PASSWORD), new Map([["admins-root", admins.sha256], [aliasFor(renewed.der, renewed.commonName), renewed.sha256]]));
  });

  it("a wrong truststore password is refused before anything changes, naming the store", async () => {
    const before = await sha256Of(h1(), TRUSTSTORE);
    await assert.rejects(trustStore.create(javaInputs(h1(), [contoso], truststore, "not-the-password")), /Java keystore \/etc\/trl-lab\/client-cas\.p12 \(\/etc\/trl-lab\/client-cas\.p12\): the keystore's integrity check failed: the password is wrong/);
    assert.equal(await sha256Of(h1(), TRUSTSTORE), before);
  });

  it("a scan given the wrong truststore password says the keystore is unreadable, naming it; the right one scans it", async () => {
    const inventory = join(dir, "tomcat-inventory.yaml");
    writeFileSync(join(dir, "renewed.crt"), renewed.pem);
    writeFileSync(
      inventory,
      JSON.stringify({
        servers: [{ name: h1().name, host: h1().address, platform: "debian", hostKey: h1().hostKey, roots: ["renewed"], javaKeystores: [truststore] }],
        rootSets: { renewed: { files: ["renewed.crt"] } },
        mode: "additive",
      }),
    );
    const scan = (password: string) =>
      runCli(["scan", "--inventory", inventory, "--json"], { TRUSTED_ROOTS_PRIVATE_KEY_FILE: join(lab.dir, "client_key"), TRUSTED_ROOTS_JAVA_KEYSTORE_PASSWORD: password }, dir);
    const wrong = await scan("not-the-password");
    assert.equal(wrong.code, 3);
    const [finding] = (JSON.parse(wrong.stdout) as ScanReport).hosts;
    assert.match(finding.reason ?? "", /^keystore unreadable: .*Java keystore \/etc\/trl-lab\/client-cas\.p12 .*the password is wrong/);
    const accepted = async () => Number((await lab.sh(h1(), "grep -c 'Accepted publickey' /var/log/trl-sshd.log || true")).trim());
    const sessionsBefore = await accepted();
    const right = await scan(TRUSTSTORE_PASSWORD);
    assert.equal((await accepted()) - sessionsBefore, 1, "the host's store and its keystore in one SSH session");
    const [ok] = (JSON.parse(right.stdout) as ScanReport).hosts;
    // The truststore holds the renewed root (the first test's end); the Root store does not: missing there only.
    assert.deepEqual(ok.missing.map((root) => root.store ?? "Root store"), ["Root store"]);
  });

  it("a host without keytool: the apply refuses before its first change and says what to install", async () => {
    const host = h2();
    const path = "/etc/trl-lab/nokeytool.p12";
    await lab.writeFile(host, "/tmp/admins.crt", admins.pem);
    await lab.exec(host, "keytool", "-importcert", "-noprompt", "-alias", "admins-root", "-file", "/tmp/admins.crt", "-keystore", path, "-storetype", "PKCS12", "-storepass", TRUSTSTORE_PASSWORD);
    const before = await sha256Of(host, path);
    await lab.sh(host, "mv /usr/bin/keytool /usr/bin/keytool.hidden");
    try {
      await assert.rejects(trustStore.create(javaInputs(host, [contoso], { kind: "file", path }, TRUSTSTORE_PASSWORD)), (error: Error) => {
        assert.match(error.message, /apply failed at step "prerequisite": keytool was not found \(install a JRE, e\.g\. openjdk-17-jre-headless/);
        assert.match(error.message, /nothing on the host was changed/);
        return true;
      });
      assert.equal(await sha256Of(host, path), before);
    } finally {
      await lab.sh(host, "mv /usr/bin/keytool.hidden /usr/bin/keytool");
    }
  });

  it("a bundled JDK's cacerts: the root goes in beside the JDK's own; an upgrade's fresh cacerts is found by the scan and repaired", async () => {
    const host = h2();
    const shipped = await keytoolEntries(host, BUNDLED_CACERTS, CACERTS_PASSWORD);
    const keystore = { kind: "jdk", javaHome: BUNDLED_JDK };
    const created = await trustStore.create(javaInputs(host, [contoso], keystore));
    const state = created.outs as TrustStoreOutputs;
    assert.deepEqual(await keytoolEntries(host, BUNDLED_CACERTS, CACERTS_PASSWORD), new Map([...shipped, [aliasFor(contoso.der, contoso.commonName), contoso.sha256]]));
    assert.equal(state.observed.systemRoots, shipped.size, "the JDK's roots are the system's");

    const inventory = join(dir, "inventory.yaml");
    writeFileSync(join(dir, "contoso.crt"), contoso.pem);
    writeFileSync(
      inventory,
      JSON.stringify({
        servers: [{ name: host.name, host: host.address, platform: "debian", hostKey: host.hostKey, groups: ["web"], javaKeystores: [keystore] }],
        rootSets: { contoso: { files: ["contoso.crt"] } },
        groups: { web: { roots: ["contoso"] } },
      }),
    );
    // The Root store holds the root too, so that only the keystore can drift below.
    await trustStore.create({ ...javaInputs(host, [contoso], {}), store: "Root", keystore: undefined, owner: `lab/java/${host.name}-root` });
    const scan = async () => {
      const result = await runCli(["scan", "--inventory", inventory, "--json"], { TRUSTED_ROOTS_PRIVATE_KEY_FILE: join(lab.dir, "client_key") }, dir);
      return { code: result.code, report: JSON.parse(result.stdout) as ScanReport, stderr: result.stderr };
    };
    const clean = await scan();
    assert.equal(clean.code, 0, clean.stderr + JSON.stringify(clean.report.hosts));

    // The "upgrade": a fresh cacerts as the new JDK ships it, without the private root.
    await lab.writeFile(host, BUNDLED_CACERTS, jdkCacerts);
    const drift = await scan();
    assert.equal(drift.code, 2);
    assert.deepEqual(drift.report.hosts[0].missing.map((root) => [root.sha256, root.store]), [[contoso.sha256, `Java keystore ${BUNDLED_CACERTS}`]]);

    const repaired = (await trustStore.update(created.id, state as unknown as Inputs, javaInputs(host, [contoso], keystore))).outs as TrustStoreOutputs;
    assert.deepEqual([repaired.changed, repaired.imported], [true, [contoso.subject]]);
    assert.equal((await scan()).code, 0);

    // Deleting the declaration takes out only its own entry.
    await trustStore.deleteStore(created.id, repaired as unknown as Inputs);
    assert.deepEqual(await keytoolEntries(host, BUNDLED_CACERTS, CACERTS_PASSWORD), shipped);
  });
});
