import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { parseCertificateIdentities } from "../../components/certificates";
import { createPosixPlatform, type PosixLayout } from "../../components/platforms/posix";
import { shQuote } from "../../components/platforms/shell";
import type { RemoteScript } from "../../components/platforms";
import type { ExecResult, ScriptRunner } from "../../components/transport";
import { LocalShell } from "./localShell";

/**
 * A Debian-family host in a directory, for histories of thousands of steps: the production POSIX platform
 * (observe and apply scripts, lock, transaction, rollback, recovery) with every path under `dir`, its own
 * shipped roots and ca-certificates.conf. The one stand-in is the refresh: a few lines of sh that build the
 * bundle as update-ca-certificates does (selected shipped roots, then every local *.crt), because the real one
 * rehashes the machine's whole CA list (2 to 4 s a run). The lab runs the real one on real hosts.
 */
export class ModelHost {
  readonly dir: string;
  readonly layout: PosixLayout;

  constructor(shipped: Record<string, string>) {
    this.dir = mkdtempSync("/tmp/trusted-roots-model.");
    for (const sub of ["local", "share", "etc", "state"]) mkdirSync(`${this.dir}/${sub}`);
    for (const [name, pem] of Object.entries(shipped)) writeFileSync(`${this.dir}/share/${name}.crt`, pem);
    writeFileSync(`${this.dir}/ca-certificates.conf`, Object.keys(shipped).map((name) => `${name}.crt\n`).join(""));
    const d = shQuote(this.dir);
    const refresh =
      `{ sed -n '/^[^!#]/p' ${d}/ca-certificates.conf | while IFS= read -r rel; do if [ -f ${d}/share/"$rel" ]; then cat ${d}/share/"$rel"; fi; done; ` +
      `find ${d}/local -type f -name '*.crt' | sort | while IFS= read -r f; do cat "$f"; echo; done; } > ${d}/etc/bundle.new && mv -f ${d}/etc/bundle.new ${d}/etc/ca-certificates.crt`;
    this.layout = {
      name: "debian",
      anchorsDir: `${this.dir}/local`,
      anchorSuffix: ".crt",
      ownSuffix: ".crt",
      bundlePath: `${this.dir}/etc/ca-certificates.crt`,
      refreshCommand: () => refresh,
      distrust: { kind: "ca-certificates.conf", conf: `${this.dir}/ca-certificates.conf`, shippedDir: `${this.dir}/share` },
      pendingRebootTest: "false",
      stateDir: `${this.dir}/state`,
    };
    this.refresh();
  }

  get platform() {
    return createPosixPlatform(this.layout);
  }

  get manifestPath(): string {
    return `${this.layout.stateDir}/manifest.json`;
  }

  /** What an OS update does after changing the shipped roots or their selection. */
  refresh(): void {
    execFileSync("sh", ["-c", this.layout.refreshCommand(true)]);
  }

  /** SHA-256 fingerprints in the bundle: what TLS clients trust. */
  trusted(): Set<string> {
    const bundle = readFileSync(this.layout.bundlePath);
    return new Set(bundle.length === 0 ? [] : parseCertificateIdentities(bundle).map((certificate) => certificate.sha256));
  }

  /** Every file in the anchors directory with its content. */
  anchors(): Map<string, string> {
    return new Map(readdirSync(this.layout.anchorsDir).map((name) => [name, readFileSync(`${this.layout.anchorsDir}/${name}`, "utf8")]));
  }

  /** Transactions left in the state directory (an interrupted apply). */
  transactions(): string[] {
    return readdirSync(this.layout.stateDir!).filter((name) => name.startsWith("txn."));
  }

  readManifest(): string | undefined {
    return existsSync(this.manifestPath) ? readFileSync(this.manifestPath, "utf8") : undefined;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The apply script with `body` run at each step mark (a function replacer: `$$` and `$1` stay shell text). */
export function withStepHook(stdin: string, body: string): string {
  return stdin.replace("trusted_roots_step() { :; }", () => `trusted_roots_step() { ${body}; }`);
}

/**
 * Runs scripts like LocalShell, except that the apply script dies (SIGKILL, no trap, no rollback) at its
 * `trusted_roots_step N` mark: a crash or power cut at step N. The script is otherwise the production one.
 */
export class CrashingShell implements ScriptRunner {
  readonly label = "crashing shell";
  private readonly inner = new LocalShell();

  constructor(private readonly crashAtStep: number) {}

  exec(script: RemoteScript): Promise<ExecResult> {
    const stdin = withStepHook(script.stdin, `if [ "$1" = ${this.crashAtStep} ]; then kill -9 $$; fi`);
    if (stdin === script.stdin && script.stdin.includes("@@begin apply")) throw new Error("internal: the apply script has no step mark to crash at");
    return this.inner.exec({ ...script, stdin });
  }
}
