import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { plan } from "../../components/plan";
import { PLATFORMS, ProtocolError, type ObservedStore } from "../../components/platforms";
import { identityOf } from "../../components/platforms/observation";
import { normalizeWindowsDate, parseWindowsObservation } from "../../components/platforms/windows";
import { TestPki } from "../support/pki";
import { userCommand } from "../../components/resources/afterChangeScripts";

const GOLDEN_DIR = resolve(__dirname, "../../../test/golden/windows");
const windows = PLATFORMS.windows;

/** The script inside `powershell ... -EncodedCommand <base64 of UTF-16LE>`. */
function decodeCommand(command: string): string {
  const match = /^powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ([A-Za-z0-9+/=]+)$/.exec(command);
  assert.ok(match, `not an encoded PowerShell command: ${command.slice(0, 120)}`);
  return Buffer.from(match[1], "base64").toString("utf16le");
}

/** Compare with test/golden/windows/NAME; UPDATE_GOLDEN=1 rewrites the file instead. */
function assertGolden(name: string, actual: string): void {
  const path = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, actual);
  }
  assert.equal(actual, readFileSync(path, "utf8"), `${name} differs from its golden file (UPDATE_GOLDEN=1 to accept)`);
}

describe("Windows platform", function () {
  this.timeout(60_000);
  const pki = new TestPki();
  let root: Certificate;
  let second: Certificate;
  let hostile: Certificate;

  before(() => {
    root = parseCertificates(pki.root("contoso", "/O=Contoso/CN=Contoso Root CA G2").pem)[0];
    second = parseCertificates(pki.root("fabrikam", "/CN=Fabrikam Root", { key: "ec256" }).pem)[0];
    hostile = parseCertificates(pki.root("hostile", "/CN=$(Remove-Item C:\\\\) ' `n \u2019; x", { key: "ec256" }).pem)[0];
  });

  const store = (roots: ObservedStore["roots"] = []): ObservedStore => ({
    platform: "windows",
    store: "Root",
    bootId: "2026-11-20T08:00:00.0000000Z",
    pendingReboot: false,
    roots,
    distrusted: [],
    manifest: { version: 1, roots: roots.filter((r) => r.origin === "managed").map(({ sha1, sha256, subject }) => ({ sha1, sha256, subject })), distrusted: [] },
    manifestDigest: "absent",
    warnings: [],
  });

  describe("scripts", () => {
    it("observe script matches its golden file, per store", () => {
      for (const storeName of ["Root", "CA", "Disallowed"] as const) {
        const script = windows.observeScript(storeName);
        assert.equal(script.stdin, "");
        assertGolden(`observe-${storeName}.ps1`, decodeCommand(script.command));
      }
    });

    it("apply script matches its golden file and carries no certificate data; the payload is JSON on stdin", () => {
      const observed = store([{ ...identityOf(second), origin: "managed", trusted: true, locations: [".Default"] }]);
      const storePlan = plan({ roots: [root, hostile], distrusted: [] }, observed, "exact");
      const script = windows.applyScript(storePlan);
      const text = decodeCommand(script.command);
      assertGolden("apply-Root.ps1", text);
      assert.equal(text.includes(hostile.subject), false);
      assert.equal(text.includes(root.sha1), false);
      const payload = JSON.parse(script.stdin) as { imports: { thumbprint: string; der: string }[]; removals: string[]; manifest: string };
      assert.deepEqual(payload.imports.map((item) => item.thumbprint).sort(), [root.sha1, hostile.sha1].sort());
      assert.equal(Buffer.from(payload.imports.find((item) => item.thumbprint === root.sha1)!.der, "base64").equals(root.der), true);
      assert.deepEqual(payload.removals, [second.sha1]);
      assert.deepEqual(JSON.parse(payload.manifest).roots.map((entry: { subject: string }) => entry.subject).sort(), [root.subject, hostile.subject].sort());
    });

    it("the encoded command is UTF-16LE without a BOM, as an independent decoder (iconv) reads it, unicode included", () => {
      const command = "Write-Output 'Zürich Root CA 認証局 🔒'";
      const script = userCommand("windows", command);
      const match = / -EncodedCommand ([A-Za-z0-9+/=]+)$/.exec(script.command);
      assert.ok(match, script.command);
      const bytes = Buffer.from(match[1], "base64");
      assert.notDeepEqual([...bytes.subarray(0, 2)], [0xff, 0xfe], "no byte order mark: PowerShell would read it as a character");
      const text = execFileSync("iconv", ["-f", "UTF-16LE", "-t", "UTF-8"], { input: bytes, encoding: "utf8" });
      assert.equal(text, `$ErrorActionPreference = 'Stop'\n${command}\n`);
    });

    it("boot id and reboot commands", () => {
      assert.match(decodeCommand(windows.bootIdScript().command), /LastBootUpTime\.ToUniversalTime\(\)\.ToString\('o'\)/);
      assert.equal(windows.rebootScript(30).command, 'shutdown /r /t 30 /c "trusted-roots: trust store changed"');
      assert.equal(windows.parseBootId("/Date(1763625600000)/\r\n"), "2025-11-20T08:00:00.000Z");
    });
  });

  describe("parsing what ConvertTo-Json really emits", () => {
    const wrap = (json: string, noise = "") => `${noise}@@begin observe\r\n@@json-start\r\n${json}\r\n@@json-end\r\n`;
    const certRecord = (certificate: Certificate, physical: string | string[], dateStyle: "iso" | "legacy" = "iso") => ({
      Thumbprint: certificate.sha1,
      Subject: certificate.subject,
      NotAfter: dateStyle === "iso" ? certificate.notAfter : `/Date(${Date.parse(certificate.notAfter)})/`,
      RawData: certificate.der.toString("base64"),
      PhysicalStores: physical,
    });

    it("Windows PowerShell 5.1: one certificate as an object, a physical store as a string, /Date()/ dates", () => {
      // A one-element collection is unrolled to its element by ConvertTo-Json in 5.1.
      const json = JSON.stringify({
        Store: "Root",
        BootId: "/Date(1763625600000)/",
        PendingReboot: true,
        Manifest: null,
        Certificates: certRecord(root, ".Default", "legacy"),
        Distrusted: null,
      });
      const observed = parseWindowsObservation(wrap(json), "Root");
      assert.equal(observed.bootId, "2025-11-20T08:00:00.000Z");
      assert.equal(observed.pendingReboot, true);
      assert.deepEqual(observed.roots.map((r) => [r.sha1, r.origin, r.trusted, r.locations]), [[root.sha1, "local", true, [".Default"]]]);
    });

    it("PowerShell 7: arrays, ISO dates, physical stores decide the origin, the manifest marks ours", () => {
      const manifest = JSON.stringify({ version: 1, roots: [{ sha256: second.sha256, sha1: second.sha1, subject: second.subject }], distrusted: [] });
      const json = JSON.stringify({
        Store: "Root",
        BootId: "2026-11-20T08:00:00.0000000Z",
        PendingReboot: false,
        Manifest: manifest,
        Certificates: [certRecord(root, [".AuthRoot", ".Default"]), certRecord(second, [".Default"]), certRecord(hostile, [".GroupPolicy"])],
        Distrusted: [],
      });
      const observed = parseWindowsObservation(wrap(json), "Root");
      const origin = Object.fromEntries(observed.roots.map((r) => [r.sha1, r.origin]));
      assert.deepEqual(origin, { [root.sha1]: "system", [second.sha1]: "managed", [hostile.sha1]: "policy" });
      assert.equal(observed.roots.find((r) => r.sha1 === hostile.sha1)?.subject, hostile.subject, "non-ASCII and quotes survive");
    });

    it("an empty store: Certificates null or absent", () => {
      for (const certificates of ["null", "[]"]) {
        const observed = parseWindowsObservation(wrap(`{"Store":"CA","BootId":"2026-11-20T08:00:00Z","Certificates":${certificates}}`), "CA");
        assert.deepEqual(observed.roots, []);
      }
    });

    it("ignores progress records and CLIXML that OpenSSH sessions on Windows add around the output", () => {
      const noise = "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><Obj S=\"progress\" RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T></TN><MS><I64 N=\"SourceId\">1</I64><PR N=\"Record\"><AV>Preparing modules for first use.</AV></PR></MS></Obj></Objs>\r\n";
      const json = JSON.stringify({ BootId: "2026-11-20T08:00:00Z", Certificates: [certRecord(root, ".Default")] });
      assert.equal(parseWindowsObservation(wrap(json, noise), "Root").roots.length, 1);
    });

    it("a DateTime serialized as an object with value and DateTime members", () => {
      assert.equal(normalizeWindowsDate({ value: "/Date(0)/", DisplayHint: 2, DateTime: "Thursday, January 1, 1970" }), "1970-01-01T00:00:00.000Z");
    });

    it("refuses output without the JSON markers, and JSON of the wrong shape", () => {
      assert.throws(() => parseWindowsObservation("#< CLIXML\r\n", "Root"), ProtocolError);
      assert.throws(() => parseWindowsObservation(wrap('{"Certificates": 5}'), "Root"), /unexpected shape/);
    });

    it("parses an apply's failure and rollback records", () => {
      const json = JSON.stringify({ BootId: "2026-11-20T08:00:00Z", Certificates: [] });
      const stdout = `@@begin apply\r\n@@failed import ${Buffer.from("Access is denied.").toString("base64")}\r\n@@rolled-back yes\r\n@@json-start\r\n${json}\r\n@@json-end\r\n`;
      const outcome = windows.parseApply(stdout, "Root");
      assert.deepEqual([outcome.failedStep, outcome.failureDetail, outcome.rolledBack], ["import", "Access is denied.", true]);
    });
  });
});
