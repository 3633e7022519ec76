import { strict as assert } from "node:assert";
import { parseCertificates, type Certificate } from "../../components/certificates";
import * as trustStore from "../../components/resources/trustStoreProvider";
import { toRootInputs, TRUST_STORE_PROVIDER_VERSION } from "../../components/resources/trustStoreCore";
import { describeLab, Lab, type LabHost } from "../support/lab";
import { TestPki } from "../support/pki";

type Inputs = Record<string, unknown>;

// Distrust and trust again on a real Debian host: OS-shipped roots are deselected in /etc/ca-certificates.conf
// ("!mozilla/X.crt") and selected again, through the TrustStore provider's own create, update and delete.
describeLab("distrusting an OS root and trusting it again (Debian ca-certificates.conf)", function () {
  this.timeout(300_000);
  let lab: Lab;
  let host: LabHost;
  let shipped: { path: string; certificate: Certificate }[];
  let contoso: Certificate;

  const inputs = (owner: string, distrusted: Certificate[]): Inputs => ({
    providerVersion: TRUST_STORE_PROVIDER_VERSION,
    connection: lab.connection(host),
    platform: "debian",
    store: "Root",
    roots: toRootInputs([contoso]),
    distrusted: toRootInputs(distrusted),
    mode: "exact",
    retainOnDelete: false,
    owner,
  });
  /** The root's line in ca-certificates.conf, and whether the compiled bundle holds it. */
  const stateOf = async (index: number) => {
    const { path, certificate } = shipped[index];
    const line = (await lab.sh(host, `grep -x -e '${path}' -e '!${path}' /etc/ca-certificates.conf`)).trim();
    const bundle = parseCertificates(await lab.exec(host, "cat", "/etc/ssl/certs/ca-certificates.crt"));
    return { line, inBundle: bundle.some((held) => held.sha256 === certificate.sha256) };
  };
  /** The resources' states, as the engine passes them back (each holds under its own instance id). */
  type StoreState = Record<string, unknown> & { holder: string };
  let web01: StoreState, otherStack: StoreState;
  const distrustedEntries = async () =>
    (JSON.parse(await lab.exec(host, "cat", "/var/lib/trusted-roots/manifest.json")) as { distrusted: { sha256: string; owners?: string[] }[] }).distrusted;

  before(async () => {
    lab = await Lab.start(1);
    [host] = lab.hosts;
    contoso = parseCertificates(new TestPki().root("contoso", "/O=Contoso/CN=Contoso Root CA G2").pem)[0];
    const paths = (await lab.sh(host, "cd /usr/share/ca-certificates && ls mozilla/*.crt | head -2")).trim().split("\n");
    shipped = await Promise.all(paths.map(async (path) => ({ path, certificate: parseCertificates(await lab.exec(host, "cat", `/usr/share/ca-certificates/${path}`))[0] })));
    // An administrator distrusted the second one by hand before this tool came.
    await lab.sh(host, `sed -i 's|^${shipped[1].path}$|!${shipped[1].path}|' /etc/ca-certificates.conf && update-ca-certificates --fresh >/dev/null 2>&1`);
    assert.deepEqual(await stateOf(1), { line: `!${shipped[1].path}`, inBundle: false });
  });

  after(async () => {
    await lab?.stop();
  });

  it("a declared distrust deselects the shipped root and records its owner; the admin's stays the admin's", async () => {
    assert.deepEqual(await stateOf(0), { line: shipped[0].path, inBundle: true });
    web01 = (await trustStore.create(inputs("web01", [shipped[0].certificate, shipped[1].certificate]))).outs as StoreState;
    assert.deepEqual(await stateOf(0), { line: `!${shipped[0].path}`, inBundle: false });
    const { sha256, sha1, subject } = shipped[0].certificate;
    assert.deepEqual(await distrustedEntries(), [{ sha256, sha1, subject, owners: [web01.holder] }], "only this tool's own distrust is recorded");
  });

  it("while another declaration distrusts it too, dropping it from one list keeps it distrusted", async () => {
    otherStack = (await trustStore.create(inputs("other-stack", [shipped[0].certificate]))).outs as StoreState;
    const updated = await trustStore.update("id", web01, inputs("web01", [shipped[1].certificate]));
    web01 = updated.outs as StoreState;
    assert.equal((updated.outs as { changed: boolean }).changed, false, "no trust changed");
    assert.deepEqual(await stateOf(0), { line: `!${shipped[0].path}`, inBundle: false });
    assert.deepEqual((await distrustedEntries()).map((entry) => entry.owners), [[otherStack.holder]]);
  });

  it("deleting the last declaration that distrusts it keeps the distrust (owner-less): a delete never re-trusts", async () => {
    await trustStore.deleteStore("id", otherStack);
    assert.deepEqual(await stateOf(0), { line: `!${shipped[0].path}`, inBundle: false });
    assert.deepEqual((await distrustedEntries()).map((entry) => entry.owners), [undefined]);
  });

  it("a declaration that adopts the distrust and then drops it trusts the root again; the admin's distrust stays", async () => {
    web01 = (await trustStore.update("id", web01, inputs("web01", [shipped[0].certificate, shipped[1].certificate]))).outs as StoreState;
    assert.deepEqual((await distrustedEntries()).map((entry) => entry.owners), [[web01.holder]]);
    const lifted = await trustStore.update("id", web01, inputs("web01", []));
    assert.equal((lifted.outs as { changed: boolean }).changed, true);
    assert.deepEqual(await stateOf(0), { line: shipped[0].path, inBundle: true });
    assert.deepEqual(await stateOf(1), { line: `!${shipped[1].path}`, inBundle: false }, "the administrator's own distrust is untouched");
    assert.deepEqual(await distrustedEntries(), []);
  });
});
