import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { aliasFor, KeystoreError } from "../../components/keystores";
import { plan } from "../../components/plan";
import { keystoreKey, type JavaKeystoreLocation } from "../../components/platforms/java";
import { ProtocolError } from "../../components/platforms/protocol";
import { createWindowsJavaKeystorePlatform, windowsJavaManifestDir } from "../../components/platforms/windowsJava";
import { ApplyError, applyWith, convergeWith, observeWith, platformOfTarget } from "../../components/store";
import { restartScript, serviceRestartScript } from "../../components/resources/afterChangeScripts";
import { assertGolden } from "../support/golden";
import { keytoolListing } from "../support/keytool";
import { TestPki } from "../support/pki";
import { SimulatedWindowsJavaHost } from "../support/windowsJavaHost";
import { adminOnly, observationStdout, readWire } from "../support/windowsWire";

// The Windows Java store as far as a Linux machine can take it: the rendered PowerShell (golden, data never in
// the script, the order of its steps), what it reads back from a host, and the keystore bytes it would write,
// opened by the JDK's own keytool. The simulated host (test/support/windowsJavaHost.ts) enacts the payload.

const KEYTOOL = "/usr/lib/jvm/java-17-openjdk-amd64/bin/keytool";
const PASSWORD = "truststore secret";
const TRUSTSTORE: JavaKeystoreLocation = { kind: "file", path: "C:\\Tomcat 10\\conf\\client-cas.p12" };
const store = (location: JavaKeystoreLocation = TRUSTSTORE, password = PASSWORD) => createWindowsJavaKeystorePlatform({ location, password, label: "iis-01 Java keystore" });
const keytool = (args: string[]) => execFileSync(KEYTOOL, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("Java keystores on Windows servers (rendered PowerShell, simulated host, the JDK's keytool)", function () {
  this.timeout(120_000);
  const pki = new TestPki();
  let dir: string;
  let root: Certificate;
  let admins: Certificate;
  let pristine: string;

  before(() => {
    root = parseCertificates(readFileSync(pki.root("win-java-root", "/CN=Contoso Java Root", { key: "ec256" }).certPath))[0];
    admins = parseCertificates(readFileSync(pki.root("win-java-admin", "/CN=Admin's Own Root", { key: "ec256" }).certPath))[0];
    dir = mkdtempSync(join(tmpdir(), "trusted-roots-winjava-"));
    pristine = join(dir, "pristine.p12");
    writeFileSync(join(dir, "admins.crt"), admins.pem);
    keytool(["-importcert", "-noprompt", "-alias", "admins-root", "-file", join(dir, "admins.crt"), "-keystore", pristine, "-storetype", "PKCS12", "-storepass", PASSWORD]);
    keytool(["-genkeypair", "-alias", "tomcat", "-keyalg", "EC", "-dname", "CN=tomcat", "-keystore", pristine, "-storepass", PASSWORD, "-keypass", PASSWORD]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A simulated server whose truststore starts as the administrator's (a root and a key pair). */
  function host(name: string): SimulatedWindowsJavaHost {
    const path = join(dir, `${name}.p12`);
    writeFileSync(path, readFileSync(pristine));
    return new SimulatedWindowsJavaHost(path, TRUSTSTORE.path!, join(dir, `${name}-state`), KEYTOOL);
  }

  it("observe and apply match their golden files; the path, the password and every certificate travel as data", async () => {
    const server = host("golden");
    const observed = await observeWith(server, store(), "Java");
    const storePlan = plan({ roots: [root], owner: "stack/iis-01" }, observed, "exact");
    const observe = readWire(store().observeScript("Java"));
    const apply = readWire(store().applyScript(storePlan));
    assertGolden("java", "windows-observe.ps1", observe.script);
    assertGolden("java", "windows-apply.ps1", apply.script);
    assert.deepEqual(JSON.parse(observe.data), { kind: "file", target: TRUSTSTORE.path, manifestDir: `trusted-roots\\java\\${keystoreKey(TRUSTSTORE)}` });
    const other = readWire(store({ kind: "jdk", javaHome: "C:\\Program Files\\Java\\jdk-21" }, "another").applyScript({ ...storePlan, imports: [] }));
    assert.equal(other.script, apply.script, "the script is the same whatever the keystore, password and roots");
    for (const secret of [PASSWORD, "Tomcat 10", root.sha256]) assert.equal(apply.script.includes(secret), false, `${secret} is in the script text`);
    const payload = JSON.parse(apply.data) as Record<string, string>;
    assert.equal(payload.password, PASSWORD);
    assert.equal(payload.basis, observed.manifestDigest);
    assert.equal(payload.keystoreBasis, observed.keystore!.digest);
    assert.equal(payload.keystoreDigest, createHash("sha256").update(Buffer.from(payload.keystore, "base64")).digest("hex"));
  });

  it("the keystore the payload carries is one the JDK's keytool opens with the password: the administrator's root and key pair kept, the root added under its own alias", async () => {
    const server = host("payload");
    const storePlan = plan({ roots: [root], owner: "stack/iis-01" }, await observeWith(server, store(), "Java"), "exact");
    const payload = JSON.parse(readWire(store().applyScript(storePlan)).data) as { keystore: string; type: string };
    const written = join(dir, "payload-written.p12");
    writeFileSync(written, Buffer.from(payload.keystore, "base64"));
    const listing = keytoolListing(keytool(["-list", "-v", "-keystore", written, "-storetype", payload.type, "-storepass", PASSWORD]));
    assert.deepEqual(listing.map((entry) => [entry.alias, entry.type === "trustedCertEntry" ? entry.sha256 : entry.type]).sort(), [
      ["admins-root", admins.sha256.toUpperCase()],
      [aliasFor(root.der, root.commonName), root.sha256.toUpperCase()],
      ["tomcat", "PrivateKeyEntry"],
    ].sort());
    assert.throws(() => keytool(["-list", "-keystore", written, "-storepass", "wrong password"]), "keytool refuses another password");
  });

  it("the apply's steps come in the order the recovery rule needs: the transaction recorded, the new bytes checked, then replaced, marked, the manifest, the commit", () => {
    const { script } = readWire(store().applyScript(plan({ roots: [root] }, emptyObservation(), "exact")));
    const main = script.slice(script.indexOf("$payload = $Data | ConvertFrom-Json"));
    const order = [
      "Enter-TrustedRootsLock",
      "Complete-TrustedRootsJavaTransactions $paths",
      "Get-TrustedRootsBasis $paths",
      "Protect-TrustedRootsFolders $paths",
      "'keystore.original'",
      "'manifest.planned'",
      "'state.json'",
      "Test-TrustedRootsKeystore $found.Keytool $candidate",
      "Set-TrustedRootsKeystoreBytes $found.Path",
      "'moved'",
      "Set-TrustedRootsManifest (Write-TrustedRootsStagingFile $paths $manifestBytes)",
      "'committed'",
      "Undo-TrustedRootsJavaTransaction $txn $paths",
    ];
    const positions = order.map((text) => main.indexOf(text));
    assert.deepEqual(positions.map((position, index) => [order[index], position >= 0]), order.map((text) => [text, true]));
    assert.deepEqual([...positions].sort((a, b) => a - b), positions, "the steps are in this order");
    // The recovery undoes only while the keystore is what the apply left, else rolls the planned manifest forward.
    assert.match(script, /if \(\(\$now -eq \[string\] \$state\.new\) -or \(\$now -eq \[string\] \$state\.original\)\) \{ Undo-TrustedRootsJavaTransaction \$txn \$Paths \}\n\s+elseif \(\[IO\.File\]::Exists\(\(Join-Path \$txn 'moved'\)\)\) \{ Set-TrustedRootsManifest .*'manifest\.planned'/);
    // keytool gets quoted paths (Windows allows no quote in a name) and the password only as a file.
    assert.match(script, /\$start\.Arguments = '-list -keystore "' \+ \$Keystore \+ '" -storetype ' \+ \$Type \+ ' -storepass:file "' \+ \$passwordFile \+ '"'/);
  });

  it("through the store engine on the simulated host: the root goes in, a second run changes nothing, the administrator's entries stay", async () => {
    const server = host("engine");
    const first = await convergeWith(server, store(), "Java", { roots: [root], owner: "stack/iis-01" }, "exact");
    assert.equal(first.changed, true);
    const again = await convergeWith(server, store(), "Java", { roots: [root], owner: "stack/iis-01" }, "exact");
    assert.equal(again.changed, false);
    const aliases = keytoolListing(keytool(["-list", "-v", "-keystore", server.keystorePath, "-storepass", PASSWORD])).map((entry) => entry.alias).sort();
    assert.deepEqual(aliases, ["admins-root", aliasFor(root.der, root.commonName), "tomcat"].sort());
    assert.deepEqual(again.after.manifest.roots.map((entry) => [entry.sha256, entry.owners]), [[root.sha256, ["stack/iis-01"]]]);
  });

  it("a wrong password is refused before anything runs, naming the keystore; a failed keytool check leaves the file as it was", async () => {
    const server = host("password");
    const before = readFileSync(server.keystorePath);
    await assert.rejects(observeWith(server, store(TRUSTSTORE, "wrong password"), "Java"), (error: Error) => error instanceof KeystoreError && /iis-01 Java keystore/.test(error.message));
    // A keystore the check refuses: the host's keytool is handed bytes the password does not open.
    const observed = await observeWith(server, store(), "Java");
    const storePlan = plan({ roots: [root] }, observed, "exact");
    const broken = new SimulatedWindowsJavaHost(server.keystorePath, server.windowsPath, server.stateDir, "/bin/false");
    await assert.rejects(applyWith(broken, store(), storePlan), (error: Error) => error instanceof ApplyError && error.step === "verify" && error.rolledBack);
    assert.equal(readFileSync(server.keystorePath).equals(before), true, "the keystore is unchanged");
  });

  it("what the host reports: a locate failure names the store and the fix; a digest that differs is an error; no keytool is a warning; a JDK's roots are the system's", () => {
    const stdout = (fields: Record<string, unknown>) => observationStdout({ ...emptyRecord(), ...fields });
    assert.throws(() => store().parseObservation(stdout({ LocateFailure: "no JAVA_HOME (machine) and no java.exe on PATH: install a JRE", KeystorePath: null }), "Java"), (error: Error) =>
      error instanceof KeystoreError && error.message === "iis-01 Java keystore: no JAVA_HOME (machine) and no java.exe on PATH: install a JRE");
    const bytes = readFileSync(pristine);
    assert.throws(() => store().parseObservation(stdout({ Keystore: bytes.toString("base64"), KeystoreDigest: "0".repeat(64) }), "Java"), ProtocolError);
    const jdk = store({ kind: "jdk", javaHome: "C:\\jdk" }, PASSWORD).parseObservation(stdout({ Keystore: bytes.toString("base64"), KeystoreDigest: createHash("sha256").update(bytes).digest("hex"), Keytool: null }), "Java");
    assert.deepEqual(jdk.roots.map((entry) => [entry.sha256, entry.origin]), [[admins.sha256, "system"]]);
    assert.match(jdk.warnings.join("\n"), /keytool\.exe was not found on the host/);
    const absent = store().parseObservation(stdout({}), "Java");
    assert.deepEqual([absent.keystore?.digest, absent.keystore?.type, absent.roots], ["absent", "PKCS12", []], "a truststore not made yet is planned as empty");
  });

  it("a JVM on Windows restarts by its service's name: the Linux presets say so", () => {
    assert.throws(() => restartScript("windows", "tomcat"), /the "tomcat" restart preset is for Linux servers; on Windows use "iis", a service by name \(service: "Tomcat10"/);
    assert.equal(JSON.stringify(readWire(serviceRestartScript("windows", "Tomcat10")).data), JSON.stringify("Tomcat10"));
  });

  it("platformOfTarget gives a Windows server's Java store this platform; the manifest folder is named after the declaration, in any case", () => {
    const platform = platformOfTarget({ connection: { host: "iis-01" }, platform: "windows", store: "Java", keystore: { location: TRUSTSTORE, password: PASSWORD } });
    assert.equal(readWire(platform.observeScript("Java")).script, readWire(store().observeScript("Java")).script);
    assert.equal(windowsJavaManifestDir({ kind: "file", path: "C:\\TOMCAT 10\\Conf\\Client-CAs.p12" }), windowsJavaManifestDir(TRUSTSTORE));
    assert.notEqual(keystoreKey({ kind: "file", path: "/opt/A.p12" }), keystoreKey({ kind: "file", path: "/opt/a.p12" }), "Linux paths keep their case");
  });
});

function emptyRecord(): Record<string, unknown> {
  return {
    BootId: "2026-11-20T08:00:00.0000000Z", PendingRebootReasons: [], Manifest: null, ManifestDigest: "absent", ManifestSecurity: [adminOnly("C:\\ProgramData\\trusted-roots", true)],
    SecurityDigest: "0123456789abcdef", KeystorePath: TRUSTSTORE.path, Keystore: null, KeystoreDigest: "absent", Keytool: "C:\\jdk\\bin\\keytool.exe", LocateFailure: null,
  };
}

function emptyObservation() {
  return store().parseObservation(observationStdout(emptyRecord()), "Java");
}
