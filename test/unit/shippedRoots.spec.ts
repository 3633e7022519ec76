import { strict as assert } from "node:assert";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { parseCertificates, toPem, type Certificate } from "../../components/certificates";
import { convergeWith } from "../../components/store";
import type { RemoteScript } from "../../components/platforms";
import type { ExecResult, ScriptRunner } from "../../components/transport";
import { ModelHost } from "../support/modelHost";
import { TestPki } from "../support/pki";

// Distrusting a root Debian ships finds its file among every shipped root. This machine's own shipped roots
// (Debian's ca-certificates package) are the model host's, and a spy openssl (first on the script's PATH)
// records each file it fingerprints: a distrust reads the files in one awk and starts no openssl, a lift
// fingerprints only the "!" lines' files.

const MOZILLA = "/usr/share/ca-certificates/mozilla";

/** Runs the scripts with `spyDir` first on their PATH (the prelude sets PATH itself). */
class PathFirstRunner implements ScriptRunner {
  readonly label = "local shell, spy first on PATH";
  constructor(
    private readonly inner: ScriptRunner,
    private readonly spyDir: string,
  ) {}

  exec(script: RemoteScript, timeoutSeconds?: number): Promise<ExecResult> {
    const stdin = script.stdin.replace(/^PATH=/m, `PATH=${this.spyDir}:`);
    assert.notEqual(stdin, script.stdin, "the script sets PATH in its prelude: the spy goes first on it");
    return this.inner.exec({ ...script, stdin }, timeoutSeconds);
  }
}

describe("distrusting a shipped root among ~140 (ca-certificates.conf)", function () {
  this.timeout(300_000);
  let host: ModelHost;
  let spyDir: string;
  let runner: PathFirstRunner;
  let shipped: Map<string, Certificate>;
  /** A root shipped as PEM wrapped at 76 columns (as MIME base64 is), not PEM's 64. */
  let wrapped76: Certificate;
  const pki = new TestPki();

  const spyLog = () => `${spyDir}/openssl.log`;
  /** The shipped files openssl fingerprinted since the last call (`-in ./mozilla/X.crt`), cleared after. */
  const fingerprinted = () => {
    const lines = readFileSync(spyLog(), "utf8").split("\n").filter(Boolean);
    writeFileSync(spyLog(), "");
    return lines.map((line) => / -in (\S+)/.exec(line)?.[1] ?? line).map((path) => path.replace(/^\.\//, ""));
  };
  const confLines = async () => (await host.state()).conf.split("\n").filter(Boolean);

  before(async () => {
    const names = readdirSync(MOZILLA).filter((name) => name.endsWith(".crt")).sort();
    assert.ok(names.length > 100, `${MOZILLA} holds Debian's shipped roots (${names.length} found)`);
    const pems = Object.fromEntries(names.map((name) => [`mozilla/${name.slice(0, -4)}`, readFileSync(`${MOZILLA}/${name}`, "utf8")]));
    shipped = new Map(Object.entries(pems).map(([rel, pem]) => [`${rel}.crt`, parseCertificates(pem)[0]]));
    wrapped76 = shipped.get(`mozilla/${names[0].slice(0, -4)}.crt`)!;
    const body = wrapped76.der.toString("base64").replace(/(.{76})/g, "$1\n").replace(/\n$/, "");
    pems["wrapped/76"] = `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
    host = new ModelHost({});
    for (const [rel, pem] of Object.entries(pems)) {
      const path = `${host.dir}/share/${rel}.crt`;
      mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      writeFileSync(path, pem);
    }
    // The first shipped root is there twice (mozilla/ and wrapped/76), and only the wrapped copy is selected.
    writeFileSync(`${host.dir}/ca-certificates.conf`, ["wrapped/76.crt", ...[...shipped.keys()].slice(1)].map((rel) => `${rel}\n`).join(""));
    await host.refresh(true);
    spyDir = mkdtempSync("/tmp/trusted-roots-spy.");
    writeFileSync(`${spyDir}/openssl`, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${spyDir}/openssl.log\nexec /usr/bin/openssl "$@"\n`);
    chmodSync(`${spyDir}/openssl`, 0o755);
    writeFileSync(spyLog(), "");
    runner = new PathFirstRunner(host.runner, spyDir);
  });

  after(() => {
    host?.remove();
    if (spyDir) rmSync(spyDir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it("deselects two roots in one apply without an openssl per shipped file (one awk reads them all)", async () => {
    const rels = [...shipped.keys()];
    const targets = [rels[Math.floor(rels.length / 2)], rels.at(-1)!];
    await convergeWith(runner, host.platform, "Root", { roots: [], distrusted: targets.map((rel) => shipped.get(rel)!), owner: "stack/web" }, "exact");
    const conf = await confLines();
    assert.deepEqual(conf.filter((line) => line.startsWith("!")).sort(), targets.map((rel) => `!${rel}`).sort());
    assert.equal(conf.length, rels.length, "every other line stays as it was");
    const trusted = (await host.state()).trusted;
    for (const rel of targets) assert.equal(trusted.has(shipped.get(rel)!.sha256), false, `${rel} left the bundle`);
    assert.deepEqual(fingerprinted(), [], "no shipped file was fingerprinted");
  });

  it("selects them again by fingerprinting only the files the \"!\" lines name", async () => {
    const deselected = (await confLines()).filter((line) => line.startsWith("!")).map((line) => line.slice(1));
    await convergeWith(runner, host.platform, "Root", { roots: [], distrusted: [], owner: "stack/web" }, "exact");
    assert.deepEqual((await confLines()).filter((line) => line.startsWith("!")), []);
    const read = fingerprinted();
    // Each reselect reads the "!" files in the conf's order until its own: 2 or 3 reads for the two.
    assert.ok(read.length >= 2 && read.length <= 3 && read.every((rel) => deselected.includes(rel)), `openssl read the "!" lines' files only: ${read.join(", ")}`);
    const trusted = (await host.state()).trusted;
    for (const [rel, certificate] of shipped) assert.ok(trusted.has(certificate.sha256), `${rel} trusted again`);
  });

  it("a root shipped in PEM of another width is found among the selected files; an unselected copy is passed over", async () => {
    await convergeWith(runner, host.platform, "Root", { roots: [], distrusted: [wrapped76], owner: "stack/web" }, "exact");
    assert.deepEqual((await confLines()).filter((line) => line.startsWith("!")), ["!wrapped/76.crt"], "the selected copy is the one deselected");
    assert.equal((await host.state()).trusted.has(wrapped76.sha256), false);
    assert.deepEqual(fingerprinted(), []);
  });

  it("a distrust of a root the OS does not ship removes its copy and leaves the conf as it was, fingerprinting nothing", async () => {
    const before = await confLines();
    const privateRoot = parseCertificates(pki.root("private", "/CN=Shipped Roots Private Root", { key: "ec256" }).pem)[0];
    await host.writeAnchor("corporate.crt", toPem(privateRoot.der));
    await host.refresh(false);
    assert.ok((await host.state()).trusted.has(privateRoot.sha256), "the administrator's copy makes it trusted");
    await convergeWith(runner, host.platform, "Root", { roots: [], distrusted: [wrapped76, privateRoot], owner: "stack/web" }, "exact");
    const state = await host.state();
    assert.equal(state.trusted.has(privateRoot.sha256), false, "distrusted");
    assert.equal(state.anchors.has("corporate.crt"), false, "the file held only the distrusted root");
    assert.deepEqual(await confLines(), before);
    // Before one awk read them all: an openssl for each of the ~140 selected files (6 CPU-seconds here).
    assert.deepEqual(fingerprinted(), []);
  });
});
