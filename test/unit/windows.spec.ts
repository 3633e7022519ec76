import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { plan, PlanError } from "../../components/plan";
import { PLATFORMS, ProtocolError, type ObservedStore } from "../../components/platforms";
import { manifestDigest, renderManifest } from "../../components/platforms/manifest";
import { identityOf } from "../../components/platforms/observation";
import { parseTrustList, TrustListError, WINDOWS_REQUIRED_ROOTS } from "../../components/platforms/trustList";
import { normalizeWindowsDate, parseWindowsObservation, REQUIRED_ROOT_LOCATION, ROOT_PROGRAM_LOCATION } from "../../components/platforms/windows";
import { evaluateHost } from "../../components/scan/findings";
import { ApplyError, applyWith, verificationProblems } from "../../components/store";
import type { ScriptRunner } from "../../components/transport";
import { assertGolden as assertGoldenIn } from "../support/golden";
import { TestPki } from "../support/pki";
import { adminOnly, buildTrustList, field, hostObservation, observationStdout, readWire } from "../support/windowsWire";

const windows = PLATFORMS.windows;
const assertGolden = (name: string, actual: string) => assertGoldenIn("windows", name, actual);

/** A runner that answers one exec with canned output: the parsers and the store layer see what a host printed. */
function replay(stdout: string, stderr = ""): ScriptRunner {
  return { label: "iis01", exec: async () => ({ stdout, stderr, exitCode: 0 }) };
}

describe("Windows platform", function () {
  this.timeout(60_000);
  const pki = new TestPki();
  let root: Certificate;
  let second: Certificate;
  let hostile: Certificate;
  let intermediate: Certificate;

  before(() => {
    const contoso = pki.root("contoso", "/O=Contoso/CN=Contoso Root CA G2");
    root = parseCertificates(contoso.pem)[0];
    second = parseCertificates(pki.root("fabrikam", "/CN=Fabrikam Root", { key: "ec256" }).pem)[0];
    hostile = parseCertificates(pki.root("hostile", "/CN=$(Remove-Item C:\\\\) ' `n \u2019; x Zürich 認証局", { key: "ec256" }).pem)[0];
    intermediate = parseCertificates(pki.issue("issuing", "/CN=Contoso Issuing CA 01", contoso, { ca: true }).pem)[0];
  });

  const record = (certificate: Certificate, physical: string | string[]) => ({
    Thumbprint: certificate.sha1,
    RawData: certificate.der.toString("base64"),
    PhysicalStores: physical,
  });
  const observation = (overrides: Record<string, unknown> = {}) => hostObservation(overrides);


  const store = (roots: ObservedStore["roots"] = []): ObservedStore => ({
    platform: "windows",
    store: "Root",
    bootId: "2026-11-20T08:00:00.0000000Z",
    pendingReboot: false,
    roots,
    distrusted: [],
    manifest: { version: 2, roots: roots.filter((r) => r.origin === "managed").map(({ sha1, sha256, subject }) => ({ sha1, sha256, subject, owners: ["trusted-roots"] })), distrusted: [] },
    manifestDigest: "absent",
    warnings: [],
  });

  describe("scripts", () => {
    it("observe and apply scripts match their golden files; store names and all certificate data travel as data", () => {
      for (const storeName of ["Root", "CA", "Disallowed", "ClientAuthIssuer"] as const) {
        const { script, data } = readWire(windows.observeScript(storeName));
        assertGolden("observe.ps1", script);
        assert.equal(JSON.parse(data).store, storeName);
      }
      const observed = store([{ ...identityOf(second), origin: "managed", trusted: true, locations: [".Default"], ownLocations: [".Default"] }]);
      const storePlan = plan({ roots: [root, hostile], distrusted: [] }, observed, "exact");
      const { script, data } = readWire(windows.applyScript(storePlan));
      assertGolden("apply.ps1", script);
      for (const secret of [hostile.subject, root.sha1]) assert.equal(script.includes(`'${secret}'`), false);
      const payload = JSON.parse(data) as { store: string; imports: { thumbprint: string; der: string }[]; removals: string[]; manifest: string };
      assert.equal(payload.store, "Root");
      assert.deepEqual(payload.imports.map((item) => item.thumbprint).sort(), [root.sha1, hostile.sha1].sort());
      assert.equal(Buffer.from(payload.imports.find((item) => item.thumbprint === root.sha1)!.der, "base64").equals(root.der), true);
      assert.deepEqual(payload.removals, [second.sha1]);
      const manifestBytes = Buffer.from(payload.manifest, "base64");
      assert.equal(manifestBytes.toString("utf8"), renderManifest(storePlan.manifest), "the manifest's exact bytes travel");
    });

    it("trusting again removes from Disallowed only the thumbprints this tool added there, and the rollback puts them back", () => {
      const observed = store();
      observed.manifest = { version: 2, roots: [], distrusted: [{ sha256: second.sha256, sha1: second.sha1, subject: second.subject, owners: ["iis01"] }] };
      const lifted = plan({ roots: [root], distrusted: [], owner: "iis01" }, observed, "exact");
      const { script, data } = readWire(windows.applyScript(lifted));
      assert.deepEqual((JSON.parse(data) as { undistrusts: string[] }).undistrusts, [second.sha1]);
      assert.match(script, /foreach \(\$thumbprint in @\(\$payload\.undistrusts\)\)[\s\S]*\$disallowed\.Remove\(\$certificate\)[\s\S]*\[void\] \$distrustRemoved\.Add/);
      assert.match(script, /foreach \(\$certificate in \$distrustRemoved\) \{ \$disallowed\.Add\(\$certificate\) \}/, "the rollback re-adds them");
    });

    it("the apply replaces the manifest atomically, and a ReplaceFile that moved the old one away (1176/1177) still ends with a manifest", () => {
      const { script } = readWire(windows.applyScript(plan({ roots: [root] }, store(), "exact")));
      const setManifest = /function Set-TrustedRootsManifest[\s\S]*?\n\}/.exec(script)![0];
      assert.match(setManifest, /if \(-not \[IO\.File\]::Exists\(\$Path\)\) \{ \[IO\.File\]::Move\(\$Staging, \$Path\); return \}/, "no manifest yet: move into place");
      assert.match(setManifest, /try \{ \[IO\.File\]::Replace\(\$Staging, \$Path, \$Backup\) \} catch \{/);
      assert.match(setManifest, /if \(\(-not \[IO\.File\]::Exists\(\$Path\)\) -and \[IO\.File\]::Exists\(\$Staging\)\) \{ \[IO\.File\]::Move\(\$Staging, \$Path\) \} else \{ throw \}/, "replaced file gone: finish the move");
      assert.match(script, /Set-TrustedRootsManifest \$staging \$paths\.Manifest \(\$paths\.Manifest \+ '\.previous'\)/, "the apply keeps a backup");
      assert.match(script, /Set-TrustedRootsManifest \(Write-TrustedRootsStagingFile \$paths \$manifestBefore\) \$paths\.Manifest \$null/, "the rollback goes through the same function: it moves when the target is missing");
      assert.doesNotMatch(script, /Move-Item|\[IO\.File\]::Replace\(\$staging, \$manifestPath/);
      assert.match(script, /AbandonedMutexException/, "a mutex left by a killed session is taken over, not waited on forever");
    });

    it("staging files are created only as new, under an unpredictable name, owned by Administrators", () => {
      const { script } = readWire(windows.applyScript(plan({ roots: [root] }, store(), "exact")));
      const staging = /function Write-TrustedRootsStagingFile[\s\S]*?\n\}/.exec(script)![0];
      assert.match(staging, /\[Guid\]::NewGuid\(\)\.ToString\('N'\)/);
      assert.match(staging, /New-Object IO\.FileStream\(\$staging, \[IO\.FileMode\]::CreateNew,/);
      assert.match(staging, /SetOwner\(\(New-TrustedRootsSid 'S-1-5-32-544'\)\)/);
      assert.doesNotMatch(script, /trusted-roots-new|WriteAllBytes\(\$staging/, "no fixed staging name, no write that would follow a planted file");
    });

    it("the manifest folders are created (or made) administrators-only before the manifest is written, and the host lock is administrators-only", () => {
      const { script } = readWire(windows.applyScript(plan({ roots: [root] }, store(), "exact")));
      const folderSecurity = /function New-TrustedRootsFolderSecurity[\s\S]*?\n\}/.exec(script)![0];
      assert.match(folderSecurity, /SetAccessRuleProtection\(\$true, \$false\)/, "nothing inherited from C:\\ProgramData");
      assert.deepEqual([...folderSecurity.matchAll(/S-1-[0-9-]+/g)].map((match) => match[0]), ["S-1-5-18", "S-1-5-32-544", "S-1-5-32-544"], "SYSTEM and Administrators granted, Administrators owner, nobody else");
      assert.match(script, /CreateDirectory\(\$folder, \(New-TrustedRootsFolderSecurity\)\)/);
      assert.doesNotMatch(script, /New-Item -ItemType Directory/);
      assert.ok(script.indexOf("Protect-TrustedRootsFolders $paths") < script.indexOf("Write-TrustedRootsStagingFile $paths ([Convert]"), "folders are secured before the new manifest is written");
      const lock = /function Open-TrustedRootsLock[\s\S]*?\n\}/.exec(script)![0];
      assert.match(lock, /New-Object System\.Threading\.Mutex\(\$false, 'Global\\trusted-roots', \[ref\] \$created, \$security\)/);
      assert.deepEqual([...new Set([...lock.matchAll(/S-1-[0-9-]+/g)].map((match) => match[0]))], ["S-1-5-18", "S-1-5-32-544"]);
      assert.match(lock, /-notcontains \$owner\) \{[\s\S]*throw \('the host lock Global\\trusted-roots was created by '/, "a lock someone else created is refused");
      assert.ok(script.indexOf("(Get-TrustedRootsBasis $paths) -ne [string] $payload.basis") < script.indexOf("$store.Open('ReadWrite')"), "the basis (bytes and ACLs) is checked before the first change");
    });

    it("boot time and host clock are read together; a later boot is one after that clock, so a VM's drifting boot time is no reboot", () => {
      const script = readWire(windows.bootIdScript()).script;
      assert.match(script, /LastBootUpTime\.ToUniversalTime\(\)\.ToString\('o'\)/);
      assert.match(script, /Write-Record \('clock ' \+ \[DateTime\]::UtcNow\.ToString\('o'\)\)/);
      const before = windows.parseBootId(`@@begin boot-id\r\n@@boot /Date(1763625600000)/\r\n@@clock 2025-11-23T09:00:00.0000000Z\r\n@@done\r\n`);
      assert.deepEqual(before, { id: "2025-11-20T08:00:00.000Z", hostClock: "2025-11-23T09:00:00.0000000Z" });
      const drifted = { id: "2025-11-20T08:00:00.412Z", hostClock: "2025-11-23T09:00:05.0000000Z" };
      assert.equal(windows.rebootedSince(before, drifted), false, "a boot time that moved by 0.4 s is the same boot");
      assert.equal(windows.rebootedSince(before, { id: "2025-11-23T09:01:10.000Z", hostClock: "2025-11-23T09:02:00.0000000Z" }), true);
      assert.equal(windows.rebootedSince(before, { id: "not a date" }), false);
      assert.throws(() => windows.parseBootId(`@@begin boot-id\r\n@@boot /Date(1763625600000)/\r\n@@done\r\n`), /no @@boot and @@clock/);
      assert.throws(() => windows.parseBootId("@@refused language-mode ConstrainedLanguage\r\n"), /ConstrainedLanguage/);
      const posix = PLATFORMS.debian;
      assert.equal(posix.rebootedSince(posix.parseBootId("a\n"), posix.parseBootId("a\n")), false);
      assert.equal(posix.rebootedSince(posix.parseBootId("a\n"), posix.parseBootId("b\n")), true);
    });

    it("the reboot runs shutdown.exe as a process decided by its exit code (0, 1115 in progress, 1190 scheduled), its stderr kept as text", () => {
      const reboot = readWire(windows.rebootScript(30));
      assert.equal(reboot.data, "30");
      assert.match(reboot.script, /\$start\.FileName = Join-Path \(\[Environment\]::SystemDirectory\) 'shutdown\.exe'/);
      assert.match(reboot.script, /\$start\.Arguments = '\/r \/t ' \+ \(\[int\] \$Data\)/, "the delay is an integer, whatever the data");
      assert.match(reboot.script, /RedirectStandardError = \$true/);
      assert.match(reboot.script, /ExitCode -eq 1190\) \{ Write-Failure 'shutdown-scheduled'/);
      assert.match(reboot.script, /ExitCode -eq 1115\) \{ Write-Record 'shutdown-in-progress'; Write-Record 'done' \}/);
      assert.doesNotMatch(reboot.script, /2>&1|& shutdown/, "no native call whose stderr becomes a terminating error");
    });
  });

  describe("who may write the manifest (the host reports owner, DACL and reparse flag of each folder and the file)", () => {
    const folder = "C:\\ProgramData\\trusted-roots";
    const manifestText = () => renderManifest({ version: 3, roots: [{ sha256: second.sha256, sha1: second.sha1, subject: second.subject, owners: ["iis01#1"], store: "Root" }], distrusted: [] });
    const observeWith = (security: unknown[]) =>
      parseWindowsObservation(
        observationStdout(observation({ Manifest: Buffer.from(manifestText()).toString("base64"), ManifestSecurity: security, Certificates: [record(second, ".Default")] })),
        "Root",
      );
    const users = (rights: number, inheritOnly = false) => ({ Sid: "S-1-5-32-545", Allow: true, Rights: rights, InheritOnly: inheritOnly });

    it("a folder and manifest only SYSTEM and Administrators own and write: trusted, no warning", () => {
      const readOnlyUsers = { ...adminOnly(folder, true), Rules: [...adminOnly(folder, true).Rules, users(0x1200a9), users(-2147483648), { Sid: "S-1-3-0", Allow: true, Rights: 0x10000000, InheritOnly: true }] };
      const observed = observeWith([readOnlyUsers, adminOnly(`${folder}\\manifest.json`, false)]);
      assert.equal(observed.manifestProblem, undefined);
      assert.deepEqual(observed.warnings, []);
      assert.equal(observed.roots[0].origin, "managed", "its entries count");
    });

    it("a manifest a user owns, or may write, is refused: its entries count for nothing and the plan names the file and the fix", () => {
      for (const file of [
        { ...adminOnly(`${folder}\\manifest.json`, false), Owner: "S-1-5-21-1004336348-1177238915-682003330-1001" },
        { ...adminOnly(`${folder}\\manifest.json`, false), Rules: [...adminOnly(folder, false).Rules, users(0x2)] },
        { ...adminOnly(`${folder}\\manifest.json`, false), Rules: [...adminOnly(folder, false).Rules, { Sid: "S-1-1-0", Allow: true, Rights: 0x40000000, InheritOnly: false }] },
      ]) {
        const observed = observeWith([adminOnly(folder, true), file]);
        assert.match(observed.manifestProblem ?? "", /manifest\.json/);
        assert.equal(observed.roots[0].origin, "local", "a root it lists is not taken for ours");
        assert.throws(
          () => plan({ roots: [], owner: "iis01#1" }, observed, "exact"),
          (error: Error) => error instanceof PlanError && /C:\\ProgramData\\trusted-roots\\manifest\.json/.test(error.message) && /icacls/.test(error.message),
        );
      }
    });

    it("a folder a user owns, or a junction, is refused; a folder Administrators own that Users may write into is made administrators-only by the next apply", () => {
      const owned = observeWith([{ ...adminOnly(folder, true), Owner: "S-1-5-32-545" }, adminOnly(`${folder}\\manifest.json`, false)]);
      assert.match(owned.manifestProblem ?? "", /owned by S-1-5-32-545 \(Users\)[\s\S]*icacls "C:\\ProgramData\\trusted-roots" \/setowner \*S-1-5-32-544/);
      const junction = observeWith([{ ...adminOnly(folder, true), ReparsePoint: true }, adminOnly(`${folder}\\manifest.json`, false)]);
      assert.match(junction.manifestProblem ?? "", /reparse point \(a junction or symbolic link\)/);
      // What an older version left: C:\ProgramData's inherited ACL lets Users create files and folders.
      const inherited = observeWith([{ ...adminOnly(folder, true), Rules: [...adminOnly(folder, true).Rules, users(0x6)] }, adminOnly(`${folder}\\manifest.json`, false)]);
      assert.equal(inherited.manifestProblem, undefined);
      assert.match(inherited.warnings.join(), /lets S-1-5-32-545 \(Users\) create or change files in it; the next apply on this host makes it administrators-only/);
    });

    it("the host's digest of the manifest must be this machine's: a hashing that differs is an error, not a conflict loop", () => {
      const bytes = Buffer.from(manifestText());
      assert.throws(
        () => parseWindowsObservation(observationStdout(observation({ Manifest: bytes.toString("base64"), ManifestDigest: "0".repeat(64) })), "Root"),
        /host's SHA-256 of its manifest/,
      );
    });
  });

  describe("pending reboots and purge scope", () => {
    it("each pending-reboot source counts; none means none", () => {
      for (const reasons of ["Component Based Servicing", ["Windows Update"], ["PendingFileRenameOperations", "Server Manager"]]) {
        assert.equal(parseWindowsObservation(observationStdout(observation({ PendingRebootReasons: reasons })), "Root").pendingReboot, true, String(reasons));
      }
      for (const reasons of [[], null]) assert.equal(parseWindowsObservation(observationStdout(observation({ PendingRebootReasons: reasons })), "Root").pendingReboot, false);
      const script = readWire(windows.observeScript("Root")).script;
      for (const source of ["Component Based Servicing\\RebootPending", "Auto Update\\RebootRequired", "PendingFileRenameOperations", "ServerManager\\CurrentRebootAttempts"]) {
        assert.ok(script.includes(source), source);
      }
    });

    it("purgeUnmanaged refuses in CA and ClientAuthIssuer, where nothing lists what Windows ships; exact works there", () => {
      for (const storeName of ["CA", "ClientAuthIssuer"] as const) {
        const observed = parseWindowsObservation(observationStdout(observation({ Certificates: [record(intermediate, ".Default")] })), storeName);
        assert.throws(() => plan({ roots: [] }, observed, "purgeUnmanaged"), (error: Error) => error instanceof PlanError && new RegExp(`LocalMachine\\\\${storeName}\\\\\\.Default`).test(error.message) && /mode exact/.test(error.message));
        assert.deepEqual(plan({ roots: [] }, observed, "exact").removals, []);
      }
    });

    it("holds are per store: a root held for Root does not keep its copy in CA, nor the other way round", () => {
      const manifest = Buffer.from(
        renderManifest({
          version: 3,
          roots: [
            { sha256: intermediate.sha256, sha1: intermediate.sha1, subject: intermediate.subject, owners: ["web#root"], store: "Root" },
            { sha256: intermediate.sha256, sha1: intermediate.sha1, subject: intermediate.subject, owners: ["web#ca"], store: "CA" },
          ],
          distrusted: [],
        }),
      ).toString("base64");
      for (const [storeName, owner] of [["CA", "web#ca"], ["Root", "web#root"]] as const) {
        const observed = parseWindowsObservation(observationStdout(observation({ Manifest: manifest, Certificates: [record(intermediate, ".Default")] })), storeName);
        const released = plan({ roots: [], owner }, observed, "exact");
        assert.deepEqual(released.removals.map((removal) => removal.sha1), [intermediate.sha1], `${storeName}: the other store's holder does not keep it here`);
        assert.deepEqual(released.manifest.roots.map((entry) => [entry.store, entry.owners]), [[storeName === "CA" ? "Root" : "CA", [storeName === "CA" ? "web#root" : "web#ca"]]]);
      }
    });
  });

  describe("parsing what the observe script prints", () => {
    it("Windows PowerShell 5.1: one certificate as an object, a physical store as a string, /Date()/ dates", () => {
      const stdout = observationStdout(observation({ BootId: "/Date(1763625600000)/", PendingRebootReasons: "PendingFileRenameOperations", Certificates: record(root, ".Default") }));
      const observed = parseWindowsObservation(stdout, "Root");
      assert.equal(observed.bootId, "2025-11-20T08:00:00.000Z");
      assert.equal(observed.pendingReboot, true);
      assert.deepEqual(observed.roots.map((r) => [r.sha1, r.origin, r.trusted, r.locations]), [[root.sha1, "local", true, [".Default"]]]);
    });

    it("physical stores decide the origin, the manifest marks ours, non-ASCII subjects survive", () => {
      const manifest = Buffer.from(JSON.stringify({ version: 1, roots: [{ sha256: second.sha256, sha1: second.sha1, subject: second.subject }], distrusted: [] }));
      const stdout = observationStdout(
        observation({
          Manifest: manifest.toString("base64"),
          Certificates: [record(root, [".AuthRoot", ".Default"]), record(second, [".Default"]), record(hostile, [".GroupPolicy"])],
        }),
      );
      const observed = parseWindowsObservation(stdout, "Root");
      const origin = Object.fromEntries(observed.roots.map((r) => [r.sha1, r.origin]));
      assert.deepEqual(origin, { [root.sha1]: "system", [second.sha1]: "managed", [hostile.sha1]: "policy" });
      assert.equal(observed.roots.find((r) => r.sha1 === hostile.sha1)?.subject, hostile.subject);
    });

    it("an empty store: Certificates null or an empty array", () => {
      for (const certificates of [null, []]) {
        assert.deepEqual(parseWindowsObservation(observationStdout(observation({ Certificates: certificates })), "CA").roots, []);
      }
    });

    it("a DateTime serialized as an object with value and DateTime members", () => {
      assert.equal(normalizeWindowsDate({ value: "/Date(0)/", DisplayHint: 2, DateTime: "Thursday, January 1, 1970" }), "1970-01-01T00:00:00.000Z");
    });

    it("the manifest digest covers the bytes on disk, as the host hashes them: a BOM or CRLF from an editor does not cause a conflict", () => {
      const text = renderManifest({ version: 2, roots: [{ sha256: root.sha256, sha1: root.sha1, subject: root.subject, owners: ["a"] }], distrusted: [] });
      for (const bytes of [Buffer.from(text), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), Buffer.from(text.replace(/\n/g, "\r\n"))]) {
        const observed = parseWindowsObservation(observationStdout(observation({ Manifest: bytes.toString("base64"), Certificates: [record(root, ".Default")] })), "Root");
        assert.equal(observed.manifestDigest, `${createHash("sha256").update(bytes).digest("hex")};acl:0123456789abcdef`);
        assert.deepEqual(observed.warnings, []);
        assert.equal(observed.roots[0].origin, "managed", "the manifest was read through its BOM or CRLF");
        // The next apply's basis is that digest: the host compares it with its own digest of the same bytes and ACLs.
        assert.equal(plan({ roots: [second] }, observed, "exact").basis, observed.manifestDigest);
      }
      // And what an apply writes is hashed identically by both sides.
      const storePlan = plan({ roots: [root] }, store(), "exact");
      const written = Buffer.from(JSON.parse(readWire(windows.applyScript(storePlan)).data).manifest, "base64");
      const reobserved = parseWindowsObservation(observationStdout(observation({ Manifest: written.toString("base64") })), "Root");
      assert.equal(reobserved.manifestDigest, `${manifestDigest(written)};acl:0123456789abcdef`);
    });

    it("refuses output without an observation record, and JSON of the wrong shape", () => {
      assert.throws(() => parseWindowsObservation("#< CLIXML\r\n", "Root"), ProtocolError);
      assert.throws(() => parseWindowsObservation(observationStdout({ Certificates: 5 }), "Root"), /unexpected shape/);
    });
  });

  describe("what Windows needs is never removed", () => {
    it("a Microsoft root this tool imported and no longer declares keeps its copy, and the hold goes (counterexample of the Windows planner histories)", () => {
      const list = buildTrustList([createHash("sha1").update(second.der).digest("hex").toUpperCase()]);
      const manifest = renderManifest({ version: 3, roots: [{ sha256: second.sha256, sha1: second.sha1, subject: second.subject, store: "Root", owners: ["web#a"] }], distrusted: [] });
      const observed = parseWindowsObservation(
        observationStdout(observation({ Manifest: Buffer.from(manifest).toString("base64"), TrustList: list.toString("base64"), Certificates: [record(second, ".Default")] })),
        "Root",
      );
      const retired = plan({ roots: [], owner: "web#a" }, observed, "exact");
      assert.deepEqual(retired.removals, [], "Microsoft's root stays, even the copy this tool imported");
      assert.deepEqual(retired.manifest.roots, [], "and the retired declaration holds it no more");
    });

    it("purgeUnmanaged keeps the documented required roots and every root-program root in .Default; removes only local ones", () => {
      const required = root;
      const program = second;
      const local = hostile;
      (WINDOWS_REQUIRED_ROOTS as Map<string, string>).set(required.sha1, "stand-in for a KB293781 root");
      try {
        const list = buildTrustList([createHash("sha1").update(program.der).digest("hex").toUpperCase()]);
        const observed = parseWindowsObservation(
          observationStdout(observation({ TrustList: list.toString("base64"), Certificates: [record(required, ".Default"), record(program, ".Default"), record(local, ".Default")] })),
          "Root",
        );
        const where = Object.fromEntries(observed.roots.map((r) => [r.sha1, [r.origin, r.locations]]));
        assert.deepEqual(where[required.sha1], ["system", [".Default", REQUIRED_ROOT_LOCATION]]);
        assert.deepEqual(where[program.sha1], ["system", [".Default", ROOT_PROGRAM_LOCATION]]);
        assert.deepEqual(where[local.sha1], ["local", [".Default"]]);
        const purge = plan({ roots: [] }, observed, "purgeUnmanaged");
        assert.deepEqual(purge.removals.map((removal) => removal.sha1), [local.sha1]);
      } finally {
        (WINDOWS_REQUIRED_ROOTS as Map<string, string>).delete(required.sha1);
      }
    });

    it("without the host's trust list purgeUnmanaged refuses instead of guessing; exact mode still works", () => {
      const observed = parseWindowsObservation(observationStdout(observation({ Certificates: [record(second, ".Default")] })), "Root");
      assert.match(observed.purgeUnsafe ?? "", /no Microsoft root-program trust list/);
      assert.throws(() => plan({ roots: [] }, observed, "purgeUnmanaged"), (error: Error) => error instanceof PlanError && /no Microsoft root-program trust list/.test(error.message) && /mode exact/.test(error.message));
      assert.deepEqual(plan({ roots: [] }, observed, "exact").removals, []);
    });

    it("Microsoft's automatic Disallowed entries are system in the Disallowed store, by the Disallowed trust list", () => {
      const list = buildTrustList([createHash("sha256").update(second.der).digest("hex").toUpperCase()], "sha256");
      const observed = parseWindowsObservation(
        observationStdout(observation({ DisallowedTrustList: list.toString("base64"), Certificates: [record(second, ".Default"), record(hostile, ".Default")] })),
        "Disallowed",
      );
      assert.equal(observed.purgeUnsafe, undefined);
      assert.deepEqual(plan({ roots: [] }, observed, "purgeUnmanaged").removals.map((removal) => removal.sha1), [hostile.sha1]);
    });

    it("a declared root that is only in .AuthRoot is imported into .Default; once there too it is unchanged", () => {
      const onlyAuthRoot = parseWindowsObservation(observationStdout(observation({ Certificates: [record(root, ".AuthRoot")] })), "Root");
      assert.equal(onlyAuthRoot.roots[0].osMayDrop, true);
      const first = plan({ roots: [root] }, onlyAuthRoot, "exact");
      assert.deepEqual(first.imports.map((item) => item.sha1), [root.sha1]);
      // An apply after which the root is still only in .AuthRoot did not do what was planned.
      assert.match(verificationProblems(first, onlyAuthRoot).join(), /still only where the OS may drop it \(\.AuthRoot\)/);
      const both = parseWindowsObservation(observationStdout(observation({ Certificates: [record(root, [".AuthRoot", ".Default"])] })), "Root");
      assert.deepEqual(verificationProblems(first, both), []);
      assert.deepEqual(plan({ roots: [root] }, both, "exact").imports, []);
    });
  });

  describe("trust lists (authroot.stl and the registry's EncodedCtl)", () => {
    it("reads a PKCS#7 list built to the published structure by an independent encoder", () => {
      const ids = [createHash("sha1").update(root.der).digest("hex").toUpperCase(), "A43489159A520F0D93D032CCAF37E7FE20A8B419", "CDD4EEAE6000AC7F40C3802C171E30148030C072"];
      const list = parseTrustList(buildTrustList(ids));
      assert.equal(list.algorithm, "sha1");
      assert.deepEqual([...list.subjects], ids);
      assert.equal(list.thisUpdate, "260422003328Z");
      assert.equal(parseTrustList(buildTrustList([])).subjects.size, 0);
    });

    it("reads a CMS-signed list (content in an OCTET STRING) made by openssl cms", () => {
      // openssl cms -sign wraps the eContent in an OCTET STRING, as RFC 5652 does.
      const dir = pki.dir;
      writeFileSync(join(dir, "ctl-content.der"), buildTrustList([createHash("sha1").update(second.der).digest("hex").toUpperCase()], "sha1", "content only"));
      const signer = pki.root("ctl-signer", "/CN=CTL Signer");
      execFileSync("openssl", [
        "cms", "-sign", "-binary", "-nodetach", "-econtent_type", "1.3.6.1.4.1.311.10.1", "-in", join(dir, "ctl-content.der"),
        "-signer", signer.certPath, "-inkey", signer.keyPath, "-outform", "DER", "-out", join(dir, "ctl.p7s"),
      ]);
      const list = parseTrustList(readFileSync(join(dir, "ctl.p7s")));
      assert.deepEqual([...list.subjects], [createHash("sha1").update(second.der).digest("hex").toUpperCase()]);
    });

    it("refuses what is not a trust list; a broken one on a host is a warning and protects nothing", () => {
      assert.throws(() => parseTrustList(Buffer.from("not DER")), TrustListError);
      assert.throws(() => parseTrustList(readFileSync(pki.pkcs7("plain", [pki.root("p", "/CN=P")], "DER"))), /not a certificate trust list/);
      const observed = parseWindowsObservation(observationStdout(observation({ TrustList: Buffer.from("garbage").toString("base64"), Certificates: [record(second, ".Default")] })), "Root");
      assert.match(observed.warnings.join(), /AuthRoot trust list \(EncodedCtl\) could not be read/);
      assert.match(observed.purgeUnsafe ?? "", /no Microsoft root-program trust list/);
    });
  });

  describe("IIS client-authentication hazards", () => {
    it("a non-self-signed certificate in Root, ClientAuthTrustMode 1/2 and SendTrustedIssuerList 1 are reported; scan carries them", () => {
      const observed = parseWindowsObservation(
        observationStdout(observation({ Certificates: [record(root, ".Default"), record(intermediate, ".Default")], ClientAuthTrustMode: 2, SendTrustedIssuerList: 1 })),
        "Root",
      );
      assert.deepEqual(observed.hazards?.map((hazard) => hazard.code), ["non-self-signed-in-root", "client-auth-trust-mode", "send-trusted-issuer-list"]);
      assert.match(observed.hazards![0].detail, /Contoso Issuing CA 01.*403\.16/);
      const finding = evaluateHost({ name: "iis01", host: "iis01", platform: "windows", roots: [root], distrusted: [], mode: "exact" }, observed, 1);
      assert.equal(finding.hazards.length, 3);
      const clean = parseWindowsObservation(observationStdout(observation({ Certificates: [record(root, ".Default")], ClientAuthTrustMode: 0, SendTrustedIssuerList: 0 })), "Root");
      assert.deepEqual(clean.hazards, []);
    });
  });

  describe("every exit path of an apply is a distinct, true error", () => {
    const after = observationStdout(observation(), "@@begin apply", "");
    const storePlan = () => plan({ roots: [root] }, store(), "exact");
    const failureOf = async (stdout: string, stderr = ""): Promise<ApplyError> => {
      const error = await applyWith(replay(stdout, stderr), windows, storePlan()).then(
        () => assert.fail("the apply should fail"),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof ApplyError, String(error));
      return error;
    };

    it("cmd.exe refusing the line, Constrained Language Mode, a broken bootstrap: nothing was changed, each said so", async () => {
      const tooLong = await failureOf("", "The command line is too long.\r\n");
      assert.equal(tooLong.step, "start");
      assert.match(tooLong.message, /cmd\.exe refused the command line .*8,191.*nothing on the host was changed/);
      const clm = await failureOf("@@refused language-mode ConstrainedLanguage\r\n");
      assert.match(clm.message, /ConstrainedLanguage mode .*AppLocker or WDAC.*nothing on the host was changed/);
      const bootstrap = await failureOf(`@@failed bootstrap ${field("Invalid length for a Base-64 char array")}\r\n`);
      assert.match(bootstrap.message, /bootstrap could not read its script from stdin \(Invalid length.*nothing on the host was changed/);
      for (const error of [tooLong, clm, bootstrap]) assert.doesNotMatch(error.message, /could NOT be fully restored/);
    });

    it("the lock timeout and a conflict report the store as it is, unchanged", async () => {
      const lock = await failureOf(`@@begin apply\r\n@@failed lock ${field("another trusted-roots apply held the host lock for 120 s; nothing was changed")}\r\n@@rolled-back yes\r\n${after}`);
      assert.deepEqual([lock.step, lock.rolledBack], ["lock", true]);
      assert.match(lock.message, /held the host lock for 120 s.*; nothing on the host was changed$/);
      assert.ok(lock.observed, "the lock path observes the store too");
      const conflict = await failureOf(`@@begin apply\r\n@@failed conflict ${field("the store changed")}\r\n@@rolled-back yes\r\n${after}`);
      assert.equal(conflict.step, "conflict");
      assert.match(conflict.message, /nothing on the host was changed$/);
    });

    it("a failed step with its rollback, and a failed rollback", async () => {
      const rolled = await failureOf(`@@begin apply\r\n@@failed import ${field("Access is denied.")}\r\n@@rolled-back yes\r\n${after}`);
      assert.deepEqual([rolled.step, rolled.rolledBack], ["import", true]);
      assert.match(rolled.message, /Access is denied\..*restored/);
      const stuck = await failureOf(`@@begin apply\r\n@@failed manifest ${field("disk full")}\r\n@@rolled-back failed\r\n${after}`);
      assert.deepEqual([stuck.step, stuck.rolledBack], ["manifest", false]);
      assert.match(stuck.message, /could NOT be fully restored/);
    });

    it("a script error before the first change (the bootstrap caught it), and output cut after the start", async () => {
      const early = await failureOf(`@@begin apply\r\n@@failed script ${field("Exception calling \"WaitOne\" (line 12)")}\r\n`);
      assert.match(early.message, /stopped at "script" before changing anything.*nothing on the host was changed/);
      const cut = await failureOf("@@begin apply\r\n");
      assert.equal(cut.step, "unknown (output cut)");
      assert.match(cut.message, /could NOT be fully restored/);
    });

    it("CLIXML on stderr is decoded in errors", async () => {
      const clixml =
        '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">powershell : The term \'powershell\' is not recognized_x000D__x000A_</S></Objs>';
      const error = await failureOf("", clixml);
      assert.match(error.message, /stderr: .*powershell : The term 'powershell' is not recognized/);
      assert.doesNotMatch(error.message, /_x000D_|<Objs/);
    });
  });
});
