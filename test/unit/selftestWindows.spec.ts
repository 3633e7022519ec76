import { strict as assert } from "node:assert";
import { createHash, X509Certificate } from "node:crypto";
import type { RemoteScript } from "../../components/platforms";
import { selftestCycle, type SelftestRunner, type SelftestStep } from "../../components/selftest/run";
import { throwawayRoot } from "../../components/selftest/throwaway";
import type { ExecResult } from "../../components/transport";
import { adminOnly, decodeStdinLines, field, hostObservation } from "../support/windowsWire";

/**
 * A stand-in for a Windows host: it answers the production scripts the way their PowerShell is written to
 * (the same records, the thumbprint check, the rollback), keeping LocalMachine stores and manifests in memory.
 * It proves the self-test's orchestration, not PowerShell itself (see docs/windows.md for what stays unproven).
 */
class SimulatedWindowsHost implements SelftestRunner {
  readonly label = "Administrator@iis01";
  readonly stores = new Map<string, Map<string, Buffer>>();
  readonly manifests = new Map<string, Buffer>();
  /** Manifest folders the apply created (administrators-only, as Protect-TrustedRootsFolders makes them). */
  readonly folders = new Set<string>();
  /** Rules a host adds to those folders beyond SYSTEM and Administrators (a broken DACL, for the failing case). */
  extraFolderRules: { Sid: string; Allow: boolean; Rights: number; InheritOnly: boolean }[] = [];
  readonly scripts: string[] = [];

  constructor(realRoot: Buffer) {
    this.stores.set("Root", new Map([[thumbprint(realRoot), realRoot]]));
  }

  async exec(script: RemoteScript): Promise<ExecResult> {
    const { script: text, data } = decodeStdinLines(script.stdin);
    this.scripts.push(text);
    const request = JSON.parse(data || "{}") as Record<string, never>;
    const lines: string[] = [];
    const record = (line: string) => lines.push(`@@${line}`);
    const security = () => {
      const folders = ["trusted-roots", "trusted-roots\\selftest"].slice(0, request.manifestDir === "trusted-roots" ? 1 : 2).map((dir) => `C:\\ProgramData\\${dir}`);
      const exists = this.folders.has(request.manifestDir);
      return [
        ...folders.map((path) => (exists ? { ...adminOnly(path, true), Rules: [...adminOnly(path, true).Rules, ...this.extraFolderRules] } : { Path: path, Exists: false })),
        this.manifests.has(request.manifestDir) ? adminOnly(`${folders[folders.length - 1]}\\manifest.json`, false) : { Path: `${folders[folders.length - 1]}\\manifest.json`, Exists: false },
      ];
    };
    const securityDigest = () => createHash("sha256").update(JSON.stringify(security())).digest("hex").slice(0, 16);
    const manifestDigest = () => {
      const current = this.manifests.get(request.manifestDir);
      return current ? createHash("sha256").update(current).digest("hex") : "absent";
    };
    const observe = () => {
      const store = this.stores.get(request.store) ?? new Map<string, Buffer>();
      const manifest = this.manifests.get(request.manifestDir);
      const observation = hostObservation({
        Manifest: manifest ? manifest.toString("base64") : null,
        ManifestDigest: manifestDigest(),
        ManifestSecurity: security(),
        SecurityDigest: securityDigest(),
        Certificates: [...store.entries()].map(([sha1, der]) => ({ Thumbprint: sha1, RawData: der.toString("base64"), PhysicalStores: [".Default"] })),
      });
      record(`observation ${field(JSON.stringify(observation))}`);
    };
    if (text.includes("Write-Record 'begin observe'")) {
      record("begin observe");
      observe();
      record("done");
    } else if (text.includes("Write-Record 'begin apply'")) {
      record("begin apply");
      const payload = request as unknown as { store: string; manifestDir: string; imports: { thumbprint: string; der: string }[]; removals: string[]; manifest: string; basis: string };
      if (`${manifestDigest()};acl:${securityDigest()}` !== payload.basis) {
        record(`failed conflict ${field("the store changed after it was observed")}`);
        record("rolled-back yes");
      } else {
        const store = this.stores.get(payload.store) ?? new Map<string, Buffer>();
        this.stores.set(payload.store, store);
        const added: string[] = [];
        let failure: string | undefined;
        for (const item of payload.imports) {
          const der = Buffer.from(item.der, "base64");
          if (thumbprint(der) !== item.thumbprint) {
            failure = `certificate ${item.thumbprint} decoded to thumbprint ${thumbprint(der)}`;
            break;
          }
          if (!store.has(item.thumbprint)) added.push(item.thumbprint);
          store.set(item.thumbprint, der);
        }
        if (failure) {
          for (const sha1 of added) store.delete(sha1);
          record(`failed import ${field(failure)}`);
          record("rolled-back yes");
        } else {
          for (const sha1 of payload.removals) store.delete(sha1);
          this.folders.add(payload.manifestDir);
          this.manifests.set(payload.manifestDir, Buffer.from(payload.manifest, "base64"));
          record("applied");
        }
      }
      observe();
    } else if (text.includes("Write-Record 'begin cleanup'")) {
      record("begin cleanup");
      for (const name of request.stores as string[]) this.stores.delete(name);
      this.manifests.delete(request.manifestDir);
      this.folders.delete(request.manifestDir);
      record("done");
    } else {
      throw new Error(`the simulated host does not know this script: ${text.slice(0, 200)}`);
    }
    return { stdout: lines.join("\r\n") + "\r\n", stderr: "", exitCode: 0 };
  }

  async run(script: RemoteScript): Promise<ExecResult> {
    const result = await this.exec(script);
    const failure = script.check?.(result);
    if (failure) throw new Error(failure);
    return result;
  }
}

const thumbprint = (der: Buffer) => new X509Certificate(der).fingerprint.replace(/:/g, "");

describe("trusted-roots selftest on Windows, against a simulated host", () => {
  it("runs the production observe and apply scripts on scratch stores, proves the rollback, cleans up, leaves Root as it was", async () => {
    const realRoot = throwawayRoot().der;
    const host = new SimulatedWindowsHost(realRoot);
    const steps: SelftestStep[] = [];
    await selftestCycle(host, "windows", steps);
    assert.deepEqual(
      steps.map((step) => [step.step.replace(/ trusted-roots selftest [0-9a-f]+/, ""), step.ok]),
      [
        ["observe the real store (read-only)", true],
        ["create the scratch store LocalMachine\\TrustedRootsSelftest", true],
        ["observe it with the production observe script", true],
        ["import the throw-away root with the production apply script", true],
        ["the manifest folder is administrators-only, and the host hashes the manifest as this machine does", true],
        ["fail an apply half-way: it must roll back", true],
        ["remove it again", true],
        ["delete the scratch store LocalMachine\\TrustedRootsSelftest", true],
        ["observe the real store again: untouched", true],
      ],
      JSON.stringify(steps, null, 2),
    );
    assert.match(steps[5].detail, /failed at "import" as intended; rolled back; 0 of its roots left; manifest unchanged/);
    assert.deepEqual([...host.stores.keys()], ["Root"], "the scratch stores are gone");
    assert.deepEqual([...host.stores.get("Root")!.keys()], [thumbprint(realRoot)], "Root is untouched");
    assert.ok(host.scripts.some((script) => script.includes("Write-Record 'begin apply'")), "the production apply script ran");
  });

  it("fails, and says why, when the manifest folder lets anyone but SYSTEM and Administrators in", async () => {
    const host = new SimulatedWindowsHost(throwawayRoot().der);
    host.extraFolderRules = [{ Sid: "S-1-5-32-545", Allow: true, Rights: 0x1200a9, InheritOnly: false }];
    const steps: SelftestStep[] = [];
    await selftestCycle(host, "windows", steps).catch(() => undefined);
    const check = steps.find((entry) => entry.step.startsWith("the manifest folder is administrators-only"));
    assert.equal(check?.ok, false);
    assert.match(check!.detail, /C:\\ProgramData\\trusted-roots grants S-1-5-32-545 access \(rights 0x1200a9\)/);
    assert.equal(steps.at(-1)?.step, "delete the scratch store LocalMachine\\TrustedRootsSelftest", "it still cleans up");
  });
});
