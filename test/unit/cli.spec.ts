import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { COMMANDS, commandHelp, overviewHelp, parseCommand, type CommandSpec } from "../../components/cli/commands";
import { loadServers, UsageError } from "../../components/cli/inputs";
import { exitCodeFor, type HostFinding } from "../../components/scan/findings";
import { buildReport, mergeReports, renderJunit, renderTable } from "../../components/scan/report";
import { inShard, parseShard } from "../../components/scan/shard";
import { progressLine } from "../../components/scan/scan";
import { PHASES, type Profile } from "../../components/transport";
import { opensslFacts, TestPki } from "../support/pki";

const CLI = resolve(__dirname, "../../components/cli/main.js");
const EXAMPLES = resolve(__dirname, "../../../examples");

function finding(name: string, overrides: Partial<HostFinding> = {}): HostFinding {
  return { name, host: `${name}.test`, platform: "debian", status: "in-sync", pendingReboot: false, missing: [], unexpected: [], distrustedPresent: [], foreign: [], hazards: [], expiring: [], expired: [], durationMs: 120, ...overrides };
}
/** The bin as a user runs it: exit code, stdout and stderr whatever the code. */
const run = (args: string[]) =>
  promisify(execFile)("node", [CLI, ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
const root = { subject: "CN=Contoso <Root> & \"Co\"\u0007", sha1: "A".repeat(40), sha256: "B".repeat(64) };

describe("trusted-roots command (pure parts and inspect)", function () {
  this.timeout(60_000);

  it("inspect --json agrees with openssl x509 for every certificate of a PEM and a .p7b", async () => {
    const pki = new TestPki();
    const first = pki.root("first", "/O=Contoso/CN=Contoso Root CA G2");
    const second = pki.root("second", "/CN=Fabrikam Root", { key: "ec384" });
    const bundle = pki.pkcs7("bundle", [first, second], "DER");
    const { stdout } = await promisify(execFile)("node", [CLI, "inspect", "--json", first.certPath, bundle]);
    const files = JSON.parse(stdout) as { file: string; certificates: { sha1: string; sha256: string; notAfter: string; isCA: boolean; der?: unknown }[] }[];
    const all = files.flatMap((file) => file.certificates);
    const expected = [first, first, second].map((certificate) => opensslFacts(certificate.certPath));
    assert.deepEqual(all.map((c) => [c.sha1, c.sha256, c.notAfter, c.isCA]), expected.map((facts) => [facts.sha1, facts.sha256, facts.notAfter, facts.isCA]));
    assert.equal(all[0].der, undefined, "no raw DER in the JSON");
    const text = (await promisify(execFile)("node", [CLI, "inspect", first.certPath])).stdout;
    assert.match(text, new RegExp(`SHA-1:\\s+${expected[0].sha1}\\s+\\(the Windows thumbprint\\)`));
    assert.match(text, /kind:\s+root \(CA: yes, self-signed: yes\)/);
  });

  it("inspect names a bad file and exits 1", async () => {
    await assert.rejects(promisify(execFile)("node", [CLI, "inspect", "/etc/hostname"]), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /trusted-roots: \/etc\/hostname: is not a certificate/);
      return true;
    });
  });

  it("exit codes: 0 in sync, 2 drift, 3 unreachable only, drift wins over unreachable", () => {
    const down = finding("c", { status: "unreachable", reason: "unreachable: ECONNREFUSED" });
    const drift = finding("b", { status: "drift", missing: [root] });
    assert.equal(exitCodeFor([finding("a")]), 0);
    assert.equal(exitCodeFor([finding("a"), drift]), 2);
    assert.equal(exitCodeFor([finding("a"), down]), 3);
    assert.equal(exitCodeFor([drift, down]), 2);
    assert.equal(exitCodeFor([finding("a", { pendingReboot: true })]), 0);
    assert.equal(exitCodeFor([finding("a", { pendingReboot: true })], ["pending-reboot"]), 2);
  });

  it("JUnit escapes hostile names and subjects and marks drift as failures, unreachable as errors", () => {
    const report = buildReport(
      [finding('web"<01>', { status: "drift", missing: [root] }), finding("web02", { status: "unreachable", reason: "host key mismatch: <evil>" })],
      ["missing", "unreachable"],
      1500,
      new Date("2026-11-25T00:00:00Z"),
    );
    const xml = renderJunit(report);
    assert.match(xml, /tests="2" failures="1" errors="1"/);
    assert.match(xml, /name="web&quot;&lt;01&gt; \(web&quot;&lt;01&gt;\.test\)"/);
    assert.match(xml, /missing: CN=Contoso &lt;Root&gt; &amp; &quot;Co&quot;\? \(SHA-1 A{40}\)/);
    assert.match(xml, /<error type="unreachable" message="host key mismatch: &lt;evil&gt;"\/>/);
    assert.equal(xml.includes("\u0007"), false);
  });

  it("the table colours only when asked", () => {
    const report = buildReport([finding("web01"), finding("web02", { status: "drift", missing: [root] })], ["missing"], 1000);
    assert.equal(renderTable(report, false).includes("\x1b"), false);
    assert.ok(renderTable(report, true).includes("\x1b[31mDRIFT\x1b[0m"));
    assert.match(renderTable(report, false), /^web02\s+web02\.test\s+DRIFT\s+missing: CN=Contoso/m);
  });

  it("--stack reads Pulumi.<stack>.yaml from the project directory, credentials from the environment", async () => {
    const servers = await loadServers({ stack: "linux", projectDir: EXAMPLES }, { TRUSTED_ROOTS_PRIVATE_KEY: "key" });
    assert.deepEqual(servers.map((server) => server.name), ["web-deb-01", "web-rhel-01", "web-alpine-01"]);
    assert.equal((servers[0].connection as { privateKey?: string }).privateKey, "key");
    await assert.rejects(loadServers({ stack: "nope", projectDir: EXAMPLES }, {}), (error: Error) => error instanceof UsageError && /Pulumi\.nope\.yaml does not exist/.test(error.message));
    await assert.rejects(loadServers({}, {}), /exactly one of --stack NAME or --inventory FILE/);
  });
});

describe("trusted-roots command line conventions: help from the same declaration as the parser", function () {
  this.timeout(60_000);

  for (const [name, spec] of Object.entries(COMMANDS) as [string, CommandSpec][]) {
    it(`${name}: --help, -h and help ${name} print its usage with every declared option and exit 0`, async () => {
      const outputs = await Promise.all([[name, "--help"], [name, "-h"], ["help", name]].map(run));
      for (const output of outputs) {
        assert.deepEqual([output.code, output.stderr], [0, ""]);
        assert.equal(output.stdout, `${commandHelp(spec)}\n`);
      }
      for (const option of Object.keys(spec.options)) assert.match(outputs[0].stdout, new RegExp(`^  --${option}\\b`, "m"), `--${option} is in the help`);
    });

    it(`${name}: every declared option is accepted by its parser, an undeclared one is refused with that command's usage`, async () => {
      for (const [option, declared] of Object.entries(spec.options)) {
        const parsed = parseCommand(spec, declared.type === "string" ? [`--${option}`, "x", ...(spec.positionals ? ["file"] : [])] : [`--${option}`]);
        assert.equal(parsed.help, false, option);
      }
      const refused = await run([name, "--no-such-option"]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /Unknown option '--no-such-option'/);
      assert.ok(refused.stderr.includes(commandHelp(spec)), "the command's own usage follows the error");
    });
  }

  it("the overview lists every command; an unknown command or topic is exit 1 with the overview", async () => {
    const overview = await run(["--help"]);
    assert.equal(overview.code, 0);
    for (const name of Object.keys(COMMANDS)) assert.match(overview.stdout, new RegExp(`^  ${name}\\b`, "m"));
    for (const args of [["frobnicate"], ["help", "frobnicate"], []]) {
      const result = await run(args);
      assert.equal(result.code, 1, args.join(" "));
      assert.ok(result.stderr.includes(overviewHelp()), args.join(" "));
    }
  });
});

describe("trusted-roots command start-up", function () {
  this.timeout(60_000);
  it("loads neither the Pulumi SDK nor the HTTP and LDAP clients until a stack fetches a remote root set", async () => {
    const probe = `const before = new Set(Object.keys(require.cache)); require(${JSON.stringify(CLI)});
      const loaded = Object.keys(require.cache).filter((file) => !before.has(file));
      console.log(JSON.stringify({ count: loaded.length, heavy: ["@pulumi/pulumi", "undici", "ldapts", "@grpc/grpc-js"].filter((name) => loaded.some((file) => file.includes(\`/node_modules/\${name}/\`))) }));`;
    const { stdout } = await promisify(execFile)("node", ["-e", probe]);
    const { count, heavy } = JSON.parse(stdout) as { count: number; heavy: string[] };
    assert.deepEqual(heavy, []);
    // 298 modules when this was written (1,228 while the config check pulled in the Pulumi SDK): a generous bound.
    assert.ok(count < 600, `${count} modules loaded at start`);
  });
});

describe("trusted-roots scan: a progress line on a terminal, none in a pipeline", function () {
  this.timeout(120_000);
  let dir: string;

  before(() => {
    // Three hosts on a closed local port: each is unreachable at once, no lab needed.
    dir = mkdtempSync(join(tmpdir(), "trusted-roots-progress-"));
    const root = new TestPki(dir).root("progress", "/CN=Progress Root");
    writeFileSync(join(dir, "root.pem"), root.pem);
    const servers = ["a", "b", "c"].map((name) => ({ name, host: "127.0.0.1", port: 1, platform: "debian", hostKey: "SHA256:" + "A".repeat(43), roots: ["r"] }));
    writeFileSync(join(dir, "inventory.json"), JSON.stringify({ servers, rootSets: { r: { files: ["root.pem"] } } }));
  });

  it("progressLine says hosts done of total, unreachable so far and the time", () => {
    assert.equal(progressLine({ done: 120, total: 1000, unreachable: 3, elapsedMs: 41_600 }), "scanned 120/1000 hosts, 3 unreachable, 42 s");
  });

  it("in a pipeline: the report only; on a terminal (script(1)): the line, counting the unreachable hosts", async () => {
    const args = ["scan", "--inventory", join(dir, "inventory.json"), "--concurrency", "1"];
    const env = { ...process.env, TRUSTED_ROOTS_PRIVATE_KEY: "unused" };
    const piped = await promisify(execFile)("node", [CLI, ...args], { env }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    assert.equal((piped as { code?: number }).code, 3, "every host unreachable");
    assert.doesNotMatch(piped.stderr, /scanned/);
    const command = ["node", CLI, ...args].map((word) => `'${word}'`).join(" ");
    const terminal = await promisify(execFile)("script", ["-qec", `${command} >/dev/null`, "/dev/null"], { env }).catch((error: { stdout: string }) => error);
    assert.match(terminal.stdout, /scanned 3\/3 hosts, 3 unreachable, \d+ s/);
  });

  it("TRUSTED_ROOTS_PROFILE: the scan writes where its time went (start-up, the inventory, each host's connect); without it, no file", async () => {
    const args = ["scan", "--inventory", join(dir, "inventory.json"), "--concurrency", "1"];
    const file = join(dir, "profile.json");
    const env = { ...process.env, TRUSTED_ROOTS_PRIVATE_KEY: "unused" };
    await promisify(execFile)("node", [CLI, ...args], { env }).catch(() => undefined);
    assert.equal(existsSync(file), false);
    await promisify(execFile)("node", [CLI, ...args], { env: { ...env, TRUSTED_ROOTS_PROFILE: file } }).catch(() => undefined);
    const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
    assert.ok(profile.startup.bootstrapMs > 0 && profile.startup.modulesMs > 0 && profile.wallMs > profile.startup.modulesMs);
    assert.equal(profile.phases[PHASES.readInventory]?.count, 1);
    assert.equal(profile.phases[PHASES.connect]?.count, 3, "one connect per host, failed ones too");
  });
});

describe("sharded scans: --shard K/N and merge", function () {
  this.timeout(60_000);

  it("a shard is K/N with 1 <= K <= N; anything else is named with the form it wants", () => {
    assert.deepEqual(parseShard("2/4"), { index: 2, count: 4 });
    for (const bad of ["0/4", "5/4", "2", "a/b", "", "2/4/8", "-1/2"]) assert.throws(() => parseShard(bad), /--shard: expected K\/N with 1 <= K <= N/, bad);
  });

  it("every server lands in exactly one shard, by its name alone, and the shards share the fleet", () => {
    const names = Array.from({ length: 1000 }, (_, index) => `web${index}.site${index % 7}`);
    const count = 3;
    const shards = Array.from({ length: count }, (_, index) => names.filter((name) => inShard(name, { index: index + 1, count })));
    assert.equal(shards.flat().length, names.length, "no server in two shards, none in none");
    assert.deepEqual(new Set(shards.flat()), new Set(names));
    // 1,000 names in 3 buckets: a hash that works puts 333 +- 50 in each; a constant one puts all in one.
    for (const shard of shards) assert.ok(shard.length > 250 && shard.length < 420, `${shard.length} of 1000`);
    const reordered = [...names].reverse().filter((name) => inShard(name, { index: 1, count }));
    assert.deepEqual(new Set(reordered), new Set(shards[0]), "the inventory's order does not matter");
  });

  it("merge makes one report of the shards: every host, the whole's exit code, the slowest shard's time", () => {
    const first = buildReport([finding("a"), finding("b", { status: "drift", missing: [root] })], ["missing", "unreachable"], 4000);
    const second = buildReport([finding("c", { status: "unreachable", reason: "unreachable: refused" })], ["missing", "unreachable"], 9000);
    const merged = mergeReports([{ file: "s1.json", report: first }, { file: "s2.json", report: second }]);
    assert.deepEqual(merged.hosts.map((host) => host.name), ["a", "b", "c"]);
    assert.deepEqual(merged.summary, { hosts: 3, inSync: 1, drift: 1, unreachable: 1, durationMs: 9000 });
    assert.equal(merged.exitCode, 2, "drift in one shard fails the whole");
    assert.equal(mergeReports([{ file: "s2.json", report: second }]).exitCode, 3);
  });

  it("merge refuses shards judged differently, overlapping shards and no shards, naming the files", () => {
    const first = buildReport([finding("a")], ["missing"], 1);
    assert.throws(() => mergeReports([{ file: "s1.json", report: first }, { file: "s2.json", report: buildReport([finding("b")], ["missing", "foreign"], 1) }]), /s2\.json was judged with --fail-on missing,foreign, s1\.json with missing: give every shard the same --fail-on/);
    assert.throws(() => mergeReports([{ file: "s1.json", report: first }, { file: "s2.json", report: buildReport([finding("a")], ["missing"], 1) }]), /a is in both s1\.json and s2\.json: the shards overlap/);
    assert.throws(() => mergeReports([]), /give the JSON reports of the shards/);
  });

  it("the merge command reads the shards' JSON, prints the whole, writes one JUnit, and names a file that is no report", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trusted-roots-merge-"));
    const files = [
      [join(dir, "s1.json"), buildReport([finding("a"), finding("b", { status: "drift", missing: [root] })], ["missing", "unreachable"], 4000)],
      [join(dir, "s2.json"), buildReport([finding("c")], ["missing", "unreachable"], 2000)],
    ] as const;
    for (const [file, report] of files) writeFileSync(file, JSON.stringify(report));
    const junit = join(dir, "all.xml");
    const merged = await run(["merge", "--junit", junit, ...files.map(([file]) => file)]);
    assert.equal(merged.code, 2, merged.stderr);
    assert.match(merged.stdout, /3 hosts: 2 in sync, 1 with drift, 0 unreachable/);
    assert.equal(readFileSync(junit, "utf8").match(/<testcase /g)?.length, 3);
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ version: 1, hosts: "none" }));
    const bad = await run(["merge", files[0][0], join(dir, "bad.json")]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /bad\.json: not a scan report: .*hosts/);
    const notJson = await run(["merge", join(dir, "all.xml")]);
    assert.match(notJson.stderr, /all\.xml: not a JSON scan report/);
  });
});
