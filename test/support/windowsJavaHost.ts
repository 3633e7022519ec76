import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RemoteScript } from "../../components/platforms";
import type { ExecResult, ScriptRunner } from "../../components/transport";
import { adminOnly, observationStdout, readWire } from "./windowsWire";

/**
 * A Windows server with one Java keystore, enacting what the Windows Java scripts (platforms/windowsJava.ts) do
 * with their payload, step for step: recovery of an interrupted transaction, the conflict check, the transaction
 * folder, keytool's check of the new bytes (the real keytool of this machine), the replace, the manifest, the
 * commit. It stands in for PowerShell, which no machine here runs: what it proves is what the planner, the
 * keystore rewrite and the recovery rule do together, not that PowerShell does what the model says.
 */
export class SimulatedWindowsJavaHost implements ScriptRunner {
  readonly label: string;
  private readonly manifestPath: string;
  private readonly txn: string;

  constructor(
    /** Where the declared Windows path's bytes really are (so keytool can act as the administrator). */
    readonly keystorePath: string,
    readonly windowsPath: string,
    readonly stateDir: string,
    readonly keytool: string,
    /** Where the apply dies, as a killed session does: 0 in the transaction, 1 after the replace, 2 after the manifest. */
    readonly crashAtStep?: number,
  ) {
    this.label = `simulated Windows host${crashAtStep === undefined ? "" : ` (crashing at step ${crashAtStep})`}`;
    this.manifestPath = join(stateDir, "manifest.json");
    this.txn = join(stateDir, "txn");
    mkdirSync(stateDir, { recursive: true });
  }

  crashingAt(step: number): SimulatedWindowsJavaHost {
    return new SimulatedWindowsJavaHost(this.keystorePath, this.windowsPath, this.stateDir, this.keytool, step);
  }

  async exec(script: RemoteScript): Promise<ExecResult> {
    const { script: text, data } = readWire(script);
    const request = JSON.parse(data) as Record<string, string>;
    if (text.includes("Write-Record 'begin observe'")) return this.output(["@@begin observe"], ["@@done"]);
    if (!text.includes("Write-Record 'begin apply'")) throw new Error("internal: the simulated host runs observe and apply only");
    return this.apply(request);
  }

  private output(before: string[], after: string[], exitCode = 0): ExecResult {
    return { stdout: observationStdout(this.observation(), before.join("\r\n"), after.join("\r\n")), stderr: "", exitCode };
  }

  private observation(): Record<string, unknown> {
    const manifest = existsSync(this.manifestPath) ? readFileSync(this.manifestPath) : undefined;
    const keystore = existsSync(this.keystorePath) ? readFileSync(this.keystorePath) : undefined;
    const folder = "C:\\ProgramData\\trusted-roots";
    return {
      BootId: "2026-11-20T08:00:00.0000000Z",
      PendingRebootReasons: [],
      Manifest: manifest?.toString("base64") ?? null,
      ManifestDigest: digest(manifest),
      ManifestSecurity: [adminOnly(folder, true)],
      SecurityDigest: "0123456789abcdef",
      KeystorePath: this.windowsPath,
      Keystore: keystore?.toString("base64") ?? null,
      KeystoreDigest: digest(keystore),
      Keytool: "C:\\Program Files\\Java\\jdk-17\\bin\\keytool.exe",
      LocateFailure: null,
    };
  }

  private refuse(step: string, detail: string): ExecResult {
    return this.output(["@@begin apply", `@@failed ${step} ${Buffer.from(detail).toString("base64")}`, "@@rolled-back yes"], []);
  }

  private crash(step: number): ExecResult | undefined {
    return this.crashAtStep === step ? { stdout: "@@begin apply\r\n", stderr: "Connection closed", exitCode: 255 } : undefined;
  }

  private apply(payload: Record<string, string>): ExecResult {
    if (this.recover()) return this.refuse("conflict", "an interrupted apply was found and settled");
    if (`${digest(read(this.manifestPath))};acl:0123456789abcdef` !== payload.basis || digest(read(this.keystorePath)) !== payload.keystoreBasis) {
      return this.refuse("conflict", "the keystore or its manifest changed after it was observed");
    }
    mkdirSync(this.txn, { recursive: true });
    if (existsSync(this.keystorePath)) writeFileSync(join(this.txn, "keystore.original"), readFileSync(this.keystorePath));
    if (existsSync(this.manifestPath)) writeFileSync(join(this.txn, "manifest.original"), readFileSync(this.manifestPath));
    writeFileSync(join(this.txn, "manifest.planned"), Buffer.from(payload.manifest, "base64"));
    writeFileSync(join(this.txn, "state.json"), JSON.stringify({ original: payload.keystoreBasis, new: payload.keystoreDigest }));
    const crashed = this.crash(0);
    if (crashed) return crashed;
    const candidate = join(this.txn, "keystore.new");
    writeFileSync(candidate, Buffer.from(payload.keystore, "base64"));
    writeFileSync(join(this.txn, "storepass"), payload.password);
    try {
      execFileSync(this.keytool, ["-list", "-keystore", candidate, "-storetype", payload.type, "-storepass:file", join(this.txn, "storepass")], { stdio: "ignore" });
    } catch {
      this.undo();
      rmSync(this.txn, { recursive: true, force: true });
      return this.output(["@@begin apply", `@@failed verify ${Buffer.from("keytool could not read the new keystore").toString("base64")}`, "@@rolled-back yes"], []);
    }
    rmSync(join(this.txn, "storepass"));
    writeFileSync(this.keystorePath, readFileSync(candidate));
    writeFileSync(join(this.txn, "moved"), "");
    const afterReplace = this.crash(1);
    if (afterReplace) return afterReplace;
    writeFileSync(this.manifestPath, Buffer.from(payload.manifest, "base64"));
    const afterManifest = this.crash(2);
    if (afterManifest) return afterManifest;
    rmSync(this.txn, { recursive: true, force: true });
    return this.output(["@@begin apply", "@@applied"], []);
  }

  /** Undo-TrustedRootsJavaTransaction: the keystore and the manifest back to their bytes before. */
  private undo(): void {
    const state = JSON.parse(readFileSync(join(this.txn, "state.json"), "utf8")) as { original: string };
    if (digest(read(this.keystorePath)) !== state.original) restore(join(this.txn, "keystore.original"), this.keystorePath);
    const original = join(this.txn, "manifest.original");
    if (digest(read(this.manifestPath)) !== digest(read(original))) restore(original, this.manifestPath);
  }

  /** Complete-TrustedRootsJavaTransactions: true when an interrupted apply was settled. */
  private recover(): boolean {
    if (!existsSync(this.txn)) return false;
    const statePath = join(this.txn, "state.json");
    if (existsSync(join(this.txn, "committed")) || !existsSync(statePath)) {
      rmSync(this.txn, { recursive: true, force: true });
      return false;
    }
    const state = JSON.parse(readFileSync(statePath, "utf8")) as { original: string; new: string };
    const now = digest(read(this.keystorePath));
    if (now === state.new || now === state.original) this.undo();
    else if (existsSync(join(this.txn, "moved"))) writeFileSync(this.manifestPath, readFileSync(join(this.txn, "manifest.planned")));
    rmSync(this.txn, { recursive: true, force: true });
    return true;
  }
}

const read = (path: string) => (existsSync(path) ? readFileSync(path) : undefined);
const digest = (bytes: Buffer | undefined) => (bytes === undefined ? "absent" : createHash("sha256").update(bytes).digest("hex"));

function restore(saved: string, path: string): void {
  if (existsSync(saved)) writeFileSync(path, readFileSync(saved));
  else rmSync(path, { force: true });
}
