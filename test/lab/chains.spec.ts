import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { parseCertificates, type Certificate } from "../../components/certificates";
import type { AfterChangeOutputs } from "../../components/resources/afterChangeCore";
import * as afterChange from "../../components/resources/afterChangeProvider";
import * as trustStore from "../../components/resources/trustStoreProvider";
import { toRootInputs, TRUST_STORE_PROVIDER_VERSION, type TrustStoreOutputs } from "../../components/resources/trustStoreCore";
import { describeLab, Lab, type LabHost } from "../support/lab";
import { TestPki, type TestCertificate } from "../support/pki";

type Client = { cert: string; key: string };

// Chains on a real Debian host whose nginx verifies client certificates against the system bundle: an
// intermediate the client does not send, a root reached only through a cross-signed certificate, and a root
// renewed under the same name. The TrustStore provider's own create and update do the work, as `pulumi up` would.
describeLab("intermediates, cross-signed roots and same-name renewals on Linux (real nginx, real openssl)", function () {
  this.timeout(300_000);
  let lab: Lab;
  let host: LabHost;
  const pki = new TestPki();
  const cert = (test: TestCertificate): Certificate => parseCertificates(test.pem)[0];
  const client = (test: TestCertificate): Client => ({ cert: test.pem, key: readFileSync(test.keyPath, "utf8") });

  const store = (owner: string, storeName: "Root" | "CA", certificates: TestCertificate[]) => ({
    providerVersion: TRUST_STORE_PROVIDER_VERSION,
    connection: lab.connection(host),
    platform: "debian",
    store: storeName,
    roots: toRootInputs(certificates.map(cert)),
    distrusted: {},
    mode: "exact",
    retainOnDelete: false,
    owner,
  });
  /** `openssl verify` on the host against the system bundle alone: no -untrusted chain, no partial chains. */
  const verifyOnHost = async (leaf: TestCertificate) => {
    await lab.writeFile(host, "/tmp/leaf.pem", leaf.pem);
    return (await lab.sh(host, "openssl verify -CAfile /etc/ssl/certs/ca-certificates.crt /tmp/leaf.pem 2>&1 || true")).trim();
  };
  const reloadNginx = () => lab.exec(host, "nginx", "-s", "reload");

  before(async () => {
    lab = await Lab.start(1);
    [host] = lab.hosts;
  });

  after(async () => {
    await lab?.stop();
  });

  it("an intermediate the client does not send: the CA store puts it where Debian keeps it; openssl and nginx then verify the leaf alone", async () => {
    const root = pki.root("g2", "/O=Contoso/CN=Contoso Root CA G2");
    const issuing = pki.issue("issuing", "/O=Contoso/CN=Contoso Issuing CA 01", root, { ca: true });
    const alice = pki.issue("alice", "/CN=alice", issuing);
    await trustStore.create(store("web01-root", "Root", [root]));
    await reloadNginx();
    assert.match(await verifyOnHost(alice), /unable to get local issuer certificate/);
    assert.equal(await lab.settledHttpsStatus(host, client(alice), 400), 400, "nginx cannot build the chain without the intermediate");
    const created = (await trustStore.create(store("web01-ca", "CA", [issuing]))).outs as TrustStoreOutputs;
    assert.deepEqual(created.imported, ["CN=Contoso Issuing CA 01, O=Contoso"]);
    assert.match(await lab.sh(host, "ls /usr/local/share/ca-certificates"), new RegExp(`trusted-roots-${cert(issuing).sha256.toLowerCase()}\\.crt`));
    assert.equal(await verifyOnHost(alice), "/tmp/leaf.pem: OK");
    await reloadNginx();
    assert.equal(await lab.settledHttpsStatus(host, client(alice), 200), 200);
    const owners = JSON.parse(await lab.exec(host, "cat", "/var/lib/trusted-roots/manifest.json")) as { roots: { sha256: string; owners: string[] }[] };
    assert.deepEqual(owners.roots.find((entry) => entry.sha256 === cert(issuing).sha256)?.owners, [created.holder], "the CA store holds its own entries");
  });

  it("a cross-signed certificate: a leaf of the new root verifies through the old root the host trusts", async () => {
    const old = pki.root("contoso-2016", "/O=Contoso/CN=Contoso Root CA 2016");
    const g3 = pki.root("g3", "/O=Contoso/CN=Contoso Root CA G3");
    const bridge = pki.crossSign("g3-by-2016", g3, old);
    const bob = pki.issue("bob", "/CN=bob", g3);
    await trustStore.create(store("xs-root", "Root", [old]));
    assert.match(await verifyOnHost(bob), /unable to get local issuer certificate/);
    const bridgeStore = (await trustStore.create(store("xs-ca", "CA", [bridge]))).outs as TrustStoreOutputs;
    assert.equal(await verifyOnHost(bob), "/tmp/leaf.pem: OK");
    // The same declaration's delete takes it away again, and the old root stays.
    await trustStore.deleteStore("id", bridgeStore as unknown as Record<string, unknown>);
    assert.match(await verifyOnHost(bob), /unable to get local issuer certificate/);
  });

  it("a root renewed under the same name: both serve during the overlap; removing the old one in exact mode fails no health check", async () => {
    const old = pki.root("fabrikam-2016", "/O=Fabrikam/CN=Fabrikam Root CA");
    const renewed = pki.root("fabrikam-2026", "/O=Fabrikam/CN=Fabrikam Root CA");
    const oldClient = client(pki.issue("carol", "/CN=carol", old));
    const newClient = client(pki.issue("dave", "/CN=dave", renewed));
    const both = store("fab-root", "Root", [old, renewed]);
    // Same subject, two roots: two entries, each under its own SHA-256.
    assert.deepEqual(Object.keys(both.roots).sort(), [cert(old).sha256, cert(renewed).sha256].sort());
    const created = (await trustStore.create(both)).outs as TrustStoreOutputs;
    await reloadNginx();
    assert.equal(await lab.settledHttpsStatus(host, oldClient, 200), 200);
    assert.equal(await lab.settledHttpsStatus(host, newClient, 200), 200);
    const updated = (await trustStore.update("id", created as unknown as Record<string, unknown>, store("fab-root", "Root", [renewed]))).outs as TrustStoreOutputs;
    assert.equal(updated.removed.length, 1);
    const healthCheck = { url: `https://${host.address}/`, clientCertificate: newClient, caCertificate: lab.serverCa, timeoutSeconds: 30, intervalSeconds: 0.5 };
    const outs = (
      await afterChange.create({ providerVersion: "1", connection: lab.connection(host), platform: "debian", revision: updated.revision, changed: true, kind: "restart", preset: "nginx", healthCheck })
    ).outs as AfterChangeOutputs;
    assert.equal(outs.healthStatus, 200, "the renewed root's client passes the health check right after the old root went");
    assert.equal(await lab.settledHttpsStatus(host, oldClient, 400), 400, "and the old root is really gone");
  });
});
