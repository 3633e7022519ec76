import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { parseCertificateIdentities } from "../../components/certificates";
import { decodeFieldBytes, parseRecords } from "../../components/platforms/protocol";
import { createPosixPlatform, stateDirOf, type PosixLayout } from "../../components/platforms/posix";
import { shQuote } from "../../components/platforms/shell";
import type { Platform, RemoteScript } from "../../components/platforms";
import type { ExecResult, ScriptRunner } from "../../components/transport";
import { LocalShell } from "./localShell";

/** What a history's checks read from a host, in one go. */
export interface HostState {
  /** Every file in the anchors directory with its content. */
  anchors: Map<string, string>;
  /** SHA-256 fingerprints in the bundle: what TLS clients trust. */
  trusted: Set<string>;
  manifest: string | undefined;
  conf: string;
  /** Transactions left in the state directory (an interrupted apply). */
  transactions: string[];
}

/**
 * A Debian-family host the invariant histories run against: the production POSIX platform over `runner`, and
 * the test's own hands on the host (an administrator's files, an OS update's conf edit, a damaged manifest).
 */
export interface HistoryHost {
  readonly layout: PosixLayout;
  readonly platform: Platform;
  readonly runner: ScriptRunner;
  /** The ca-certificates.conf line that selects the shipped root S1. */
  readonly shippedLine: string;
  /** The runner, except that the apply script dies at its step mark `step`. */
  crashingAt(step: number): ScriptRunner;
  state(): Promise<HostState>;
  writeAnchor(name: string, content: string): Promise<void>;
  removeAnchor(name: string): Promise<void>;
  writeManifest(text: string): Promise<void>;
  writeConf(text: string): Promise<void>;
  /**
   * What an OS update or an administrator's `update-ca-certificates` does after their change: `--fresh` after a
   * removal, as Debian's page asks (a plain run keeps a deleted file's link), plain after an addition.
   */
  refresh(afterRemoval: boolean): Promise<void>;
}

const manifestPathOf = (layout: PosixLayout) => `${stateDirOf(layout)}/manifest.json`;

/**
 * A Debian-family host in a directory, for histories of thousands of steps: the production POSIX platform
 * (observe and apply scripts, lock, transaction, rollback, recovery) with every path under `dir`, its own
 * shipped roots and ca-certificates.conf. The one stand-in is the refresh: a few lines of sh that build the
 * bundle as update-ca-certificates does (selected shipped roots, then every local *.crt), because the real one
 * rehashes the machine's whole CA list (2 to 4 s a run). The lab runs the same histories on a real host
 * (`ScriptedHost`), with the real update-ca-certificates.
 */
export class ModelHost implements HistoryHost {
  readonly dir: string;
  readonly layout: PosixLayout;
  readonly runner = new LocalShell();
  readonly shippedLine = "S1.crt";

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
    execFileSync("sh", ["-c", refresh]);
  }

  get platform() {
    return createPosixPlatform(this.layout);
  }

  crashingAt(step: number): ScriptRunner {
    return new CrashingRunner(this.runner, step);
  }

  async state(): Promise<HostState> {
    const bundle = readFileSync(this.layout.bundlePath);
    const manifestPath = manifestPathOf(this.layout);
    return {
      anchors: new Map(readdirSync(this.layout.anchorsDir).map((name) => [name, readFileSync(`${this.layout.anchorsDir}/${name}`, "utf8")])),
      trusted: new Set(bundle.length === 0 ? [] : parseCertificateIdentities(bundle).map((certificate) => certificate.sha256)),
      manifest: existsSync(manifestPath) ? readFileSync(manifestPath, "utf8") : undefined,
      conf: readFileSync(`${this.dir}/ca-certificates.conf`, "utf8"),
      transactions: readdirSync(stateDirOf(this.layout)).filter((name) => name.startsWith("txn.")),
    };
  }

  async writeAnchor(name: string, content: string): Promise<void> {
    writeFileSync(`${this.layout.anchorsDir}/${name}`, content);
  }

  async removeAnchor(name: string): Promise<void> {
    unlinkSync(`${this.layout.anchorsDir}/${name}`);
  }

  async writeManifest(text: string): Promise<void> {
    writeFileSync(manifestPathOf(this.layout), text);
  }

  async writeConf(text: string): Promise<void> {
    writeFileSync(`${this.dir}/ca-certificates.conf`, text);
  }

  async refresh(afterRemoval: boolean): Promise<void> {
    execFileSync("sh", ["-c", this.layout.refreshCommand(afterRemoval)]);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A real host reached through `runner` (an SSH session to a lab host): the production layout and the real
 * update-ca-certificates; every read and write is one small script, the state one script for all of it.
 */
export class ScriptedHost implements HistoryHost {
  readonly platform: Platform;

  constructor(
    readonly runner: ScriptRunner,
    readonly layout: PosixLayout,
    readonly shippedLine: string,
  ) {
    this.platform = createPosixPlatform(layout);
  }

  private get conf(): string {
    return this.layout.distrust.kind === "ca-certificates.conf" ? (this.layout.distrust.conf ?? "/etc/ca-certificates.conf") : "/dev/null";
  }

  private async sh(script: string): Promise<string> {
    const result = await this.runner.exec({ command: "/bin/sh -s", stdin: `${script}\n`, elevation: "sudo" });
    if (result.exitCode !== 0) throw new Error(`${this.runner.label}: a test script failed (exit ${result.exitCode}): ${result.stderr}\n${script}`);
    return result.stdout;
  }

  crashingAt(step: number): ScriptRunner {
    return new CrashingRunner(this.runner, step);
  }

  async state(): Promise<HostState> {
    const b64 = (path: string) => `"$(base64 < ${path} | tr -d '\\n')"`;
    const stdout = await this.sh(
      [
        `for f in ${shQuote(this.layout.anchorsDir)}/*; do [ -f "$f" ] && printf '@@anchor %s %s\\n' "$(printf %s "\${f##*/}" | base64 | tr -d '\\n')" ${b64('"$f"')}; done`,
        `printf '@@bundle %s\\n' ${b64(shQuote(this.layout.bundlePath))}`,
        `if [ -f ${shQuote(manifestPathOf(this.layout))} ]; then printf '@@manifest %s\\n' ${b64(shQuote(manifestPathOf(this.layout)))}; fi`,
        `printf '@@conf %s\\n' ${b64(shQuote(this.conf))}`,
        `for t in ${shQuote(stateDirOf(this.layout))}/txn.*; do [ -e "$t" ] && printf '@@txn %s\\n' "$(printf %s "\${t##*/}" | base64 | tr -d '\\n')"; done`,
        "true",
      ].join("\n"),
    );
    const state: HostState = { anchors: new Map(), trusted: new Set(), manifest: undefined, conf: "", transactions: [] };
    for (const record of parseRecords(stdout)) {
      const text = (index: number) => decodeFieldBytes(record.fields[index]).toString("utf8");
      if (record.kind === "anchor") state.anchors.set(text(0), text(1));
      const bundle = record.kind === "bundle" ? decodeFieldBytes(record.fields[0]) : undefined;
      if (bundle && bundle.length > 0) state.trusted = new Set(parseCertificateIdentities(bundle).map((certificate) => certificate.sha256));
      if (record.kind === "manifest") state.manifest = text(0);
      if (record.kind === "conf") state.conf = text(0);
      if (record.kind === "txn") state.transactions.push(text(0));
    }
    return state;
  }

  private write(path: string, content: string): Promise<string> {
    return this.sh(`printf %s ${shQuote(Buffer.from(content).toString("base64"))} | base64 -d > ${shQuote(path)}`);
  }

  async writeAnchor(name: string, content: string): Promise<void> {
    await this.write(`${this.layout.anchorsDir}/${name}`, content);
  }

  async removeAnchor(name: string): Promise<void> {
    await this.sh(`rm -f ${shQuote(`${this.layout.anchorsDir}/${name}`)}`);
  }

  async writeManifest(text: string): Promise<void> {
    await this.write(manifestPathOf(this.layout), text);
  }

  async writeConf(text: string): Promise<void> {
    await this.write(this.conf, text);
  }

  async refresh(afterRemoval: boolean): Promise<void> {
    await this.sh(`${this.layout.refreshCommand(afterRemoval)} >/dev/null`);
  }
}

/** The apply script with `body` run at each step mark (a function replacer: `$$` and `$1` stay shell text). */
export function withStepHook(stdin: string, body: string): string {
  return stdin.replace("trusted_roots_step() { :; }", () => `trusted_roots_step() { ${body}; }`);
}

/**
 * Runs scripts like its inner runner, except that the apply script dies (SIGKILL, no trap, no rollback) at its
 * `trusted_roots_step N` mark: a crash or power cut at step N. The script is otherwise the production one.
 */
export class CrashingRunner implements ScriptRunner {
  readonly label: string;

  constructor(
    private readonly inner: ScriptRunner,
    private readonly crashAtStep: number,
  ) {
    this.label = `${inner.label} (crashing at step ${crashAtStep})`;
  }

  exec(script: RemoteScript, timeoutSeconds?: number): Promise<ExecResult> {
    const stdin = withStepHook(script.stdin, `if [ "$1" = ${this.crashAtStep} ]; then kill -9 $$; fi`);
    if (stdin === script.stdin && script.stdin.includes("@@begin apply")) throw new Error("internal: the apply script has no step mark to crash at");
    return this.inner.exec({ ...script, stdin }, timeoutSeconds);
  }
}

/** A CrashingRunner over a local shell. */
export class CrashingShell extends CrashingRunner {
  constructor(crashAtStep: number) {
    super(new LocalShell(), crashAtStep);
  }
}
