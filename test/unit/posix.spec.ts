import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { plan, PlanError } from "../../components/plan";
import { PLATFORMS, ProtocolError, type ObservedStore, type Platform, type StoreName } from "../../components/platforms";
import { identityOf } from "../../components/platforms/observation";
import { assertGolden } from "../support/golden";
import { TestPki } from "../support/pki";
import { newHolder, ownerOfHolder } from "../../components/resources/trustStoreCore";
import { HOSTILE_VALUES } from "../support/hostile";

const LINUX = (["debian", "rhel", "suse", "alpine", "arch"] as const).map((name) => PLATFORMS[name]);
const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64");
const unb64 = (text: string) => Buffer.from(text, "base64").toString("utf8");

/** The plan an apply script carries as data, paths decoded: "rm remove /path", "put import /path", "deselect DER"... */
function planData(stdin: string): string[] {
  const block = /\nTRUSTED_ROOTS_PLAN='\n([^']*)'\n/.exec(stdin);
  assert.ok(block, "the apply script carries its plan as one quoted data block");
  return block[1]
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [kind, ...fields] = line.split(" ");
      if (kind === "save") return `save ${unb64(fields[0])}`;
      if (kind === "mkdir" || kind === "rm" || kind === "put") return `${kind} ${fields[0]} ${unb64(fields[1])}`;
      return line;
    });
}

function emptyStore(platform: Platform): ObservedStore {
  return {
    platform: platform.name,
    store: "Root",
    bootId: "x",
    pendingReboot: false,
    roots: [],
    distrusted: [],
    manifest: { version: 1, roots: [], distrusted: [] },
    manifestDigest: "absent",
    warnings: [],
  };
}

describe("POSIX platforms", function () {
  this.timeout(60_000);
  const pki = new TestPki();
  let hostile: Certificate[];
  let plain: Certificate;
  let system: Certificate;

  before(() => {
    hostile = HOSTILE_VALUES.filter((value) => value && !value.includes("\n") && !value.startsWith("-") && value !== "*").map(
      (value, index) => parseCertificates(pki.root(`hostile-${index}`, `/CN=${value.replace(/[/\\+]/g, "\\$&")}`, { key: "ec256" }).pem)[0],
    );
    plain = parseCertificates(pki.root("plain", "/CN=Plain Root", { key: "ec256" }).pem)[0];
    system = parseCertificates(pki.root("system", "/CN=System Root", { key: "ec256" }).pem)[0];
  });

  for (const platform of LINUX) {
    describe(platform.name, () => {
      const hostileFile = () => `/var/tmp/$(touch pwned);'x'\`id\`.crt`;
      const fullPlan = () => {
        const observed = emptyStore(platform);
        observed.roots = [
          { ...identityOf(plain), origin: "managed", trusted: true, locations: ["/old/trusted-roots-x.crt"] },
          { ...identityOf(system), origin: "local", trusted: true, locations: [hostileFile()] },
        ];
        observed.manifest.roots = [{ sha256: plain.sha256, sha1: plain.sha1, subject: plain.subject }];
        return plan({ roots: hostile, distrusted: [] }, observed, "purgeUnmanaged");
      };

      it("renders scripts that sh and bash parse", () => {
        const scripts = [platform.observeScript("Root"), platform.applyScript(fullPlan()), platform.rebootScript(5)];
        for (const script of scripts) {
          assert.equal(script.command, "/bin/sh -s");
          for (const shell of ["sh", "bash"]) execFileSync(shell, ["-n"], { input: script.stdin });
        }
      });

      it("never puts a subject or an observed path in script text: the plan is data, its paths base64", () => {
        const script = platform.applyScript(fullPlan()).stdin;
        for (const certificate of hostile) assert.equal(script.includes(certificate.subject), false, certificate.subject);
        assert.equal(script.includes("$(touch pwned)"), false, "the hostile path appears nowhere as text");
        assert.ok(planData(script).includes(`rm remove ${hostileFile()}`), "the hostile local anchor is removed through its path as data");
      });

      it("the program is the same for every plan of the family; only the data block differs", () => {
        const program = (stdin: string) => stdin.replace(/\nTRUSTED_ROOTS_PLAN='\n[^']*'\n/, "\n");
        const other = plan({ roots: [plain], distrusted: [system], owner: "web02" }, emptyStore(platform), "exact");
        assert.equal(program(platform.applyScript(fullPlan()).stdin), program(platform.applyScript(other).stdin));
        assert.notEqual(platform.applyScript(fullPlan()).stdin, platform.applyScript(other).stdin);
      });

      it("writes files named by fingerprint only, and refreshes with the family's command", () => {
        const storePlan = fullPlan();
        const script = platform.applyScript(storePlan).stdin;
        const data = planData(script);
        for (const root of storePlan.imports) assert.ok(data.some((line) => line.startsWith("put import ") && line.endsWith(`/trusted-roots-${root.sha256.toLowerCase()}${line.slice(line.lastIndexOf("."))}`)), root.subject);
        assert.equal(data.at(-1), "refresh yes", "removals refresh with the family's full rebuild");
        const refresh = { debian: "update-ca-certificates --fresh", rhel: "update-ca-trust extract", suse: "update-ca-certificates --fresh", alpine: "update-ca-certificates", arch: "trust extract-compat" }[platform.name as "debian"];
        assert.ok(script.includes(`if [ "$1" = yes ]; then ${refresh};`), script);
      });

      it("trusts again only what this tool distrusted: its own blocklist file, or its own \"!\" in ca-certificates.conf", () => {
        const observed = emptyStore(platform);
        observed.manifest = { version: 2, roots: [], distrusted: [{ sha256: system.sha256, sha1: system.sha1, subject: system.subject, owners: ["web01"] }] };
        const lifted = plan({ roots: [plain], distrusted: [], owner: "web01" }, observed, "exact");
        assert.deepEqual(lifted.undistrusts.map((root) => root.sha256), [system.sha256]);
        const script = platform.applyScript(lifted).stdin;
        for (const shell of ["sh", "bash"]) execFileSync(shell, ["-n"], { input: script });
        const data = planData(script);
        const blocklist = { rhel: "/etc/pki/ca-trust/source/blocklist", suse: "/etc/pki/trust/blacklist", arch: "/etc/ca-certificates/trust-source/blocklist" }[platform.name as "rhel"];
        if (blocklist) {
          assert.ok(data.some((line) => new RegExp(`^rm undistrust ${blocklist}/trusted-roots-${system.sha256.toLowerCase()}\\.[a-z]+$`).test(line)), data.join("\n"));
          assert.equal(data.some((line) => line.startsWith("reselect")), false);
        } else {
          assert.ok(data.includes(`reselect ${system.sha256}`), data.join("\n"));
        }
      });

      it("the CA store keeps intermediates where the family does: p11-kit's source directory (neutral trust), else the anchors", () => {
        const caPlan = plan({ roots: [plain], owner: "web01-ca" }, { ...emptyStore(platform), store: "CA" }, "exact");
        const data = planData(platform.applyScript(caPlan).stdin);
        const dir = { rhel: "/etc/pki/ca-trust/source", suse: "/etc/pki/trust", arch: "/etc/ca-certificates/trust-source" }[platform.name as "rhel"] ?? (platform.name === "alpine" || platform.name === "debian" ? "/usr/local/share/ca-certificates" : undefined);
        assert.ok(dir);
        assert.ok(data.some((line) => line.startsWith(`put import ${dir}/trusted-roots-${plain.sha256.toLowerCase()}.`)), data.join("\n"));
        assert.ok(platform.stores.includes("CA"));
      });

      it("observe and apply scripts match their golden files (an example's roots: one imported, one retired)", () => {
        const example = (name: string) => parseCertificates(readFileSync(resolve(__dirname, "../../../examples/roots", name), "utf8"))[0];
        const [contoso, retired] = [example("contoso-root-ca-g2.pem"), example("retired-root-2015.pem")];
        const observed = emptyStore(platform);
        const own = `/usr/local/share/ca-certificates/trusted-roots-${retired.sha256.toLowerCase()}.crt`;
        observed.roots = [{ ...identityOf(retired), origin: "managed", trusted: true, locations: [own], ownLocations: [own] }];
        observed.manifest.roots = [{ sha256: retired.sha256, sha1: retired.sha1, subject: retired.subject, store: "Root", owners: ["web01"] }];
        assertGolden("posix", `${platform.name}-observe.sh`, platform.observeScript("Root").stdin);
        assertGolden("posix", `${platform.name}-apply.sh`, platform.applyScript(plan({ roots: [contoso], distrusted: [], owner: "web01" }, observed, "exact")).stdin);
      });

      it("runs the program only from its last line, so a script cut in transit runs nothing", () => {
        const script = platform.applyScript(fullPlan()).stdin;
        assert.match(script, /\ntrusted_roots_main <\/dev\/null\n$/);
        const dataStart = script.indexOf("\nTRUSTED_ROOTS_PLAN='");
        // Cut in the program, inside the data block, and right after it (before the call).
        for (const at of [Math.floor(dataStart / 2), Math.floor((dataStart + script.length) / 2), script.lastIndexOf("trusted_roots_main </dev/null")]) {
          const output = execFileSync("sh", ["-c", `sh -s 2>&1; echo "exit=$?"`], { input: script.slice(0, at), encoding: "utf8" });
          assert.doesNotMatch(output, /@@begin/, `cut at ${at} of ${script.length}`);
        }
      });
    });
  }

  describe("parsing observations", () => {
    const debian = PLATFORMS.debian;
    const observeOutput = (records: string[]) => ["@@begin observe", ...records, "@@end", ""].join("\n");

    it("p11-kit's CA store is what lies in the source directory's top level, present meaning known; the Root store ignores it", () => {
      const rhel = PLATFORMS.rhel;
      const own = `/etc/pki/ca-trust/source/trusted-roots-${plain.sha256.toLowerCase()}.pem`;
      const stdout = observeOutput([
        `@@manifest ${b64(JSON.stringify({ version: 2, roots: [{ sha256: plain.sha256, sha1: plain.sha1, subject: plain.subject, owners: ["web01-ca"] }], distrusted: [] }))}`,
        `@@intermediate ${b64(own)} ${b64(plain.pem)}`,
        `@@intermediate ${b64("/etc/pki/ca-trust/source/admin.pem")} ${b64(system.pem)}`,
        `@@bundle ${b64(hostile[0].pem)}`,
      ]);
      const ca = rhel.parseObservation(stdout, "CA");
      assert.deepEqual(ca.roots.map((root) => [root.subject, root.origin, root.trusted]).sort(), [[plain.subject, "managed", true], [system.subject, "local", true]].sort());
      const root = rhel.parseObservation(stdout, "Root");
      assert.deepEqual(root.roots.map((held) => held.subject), [hostile[0].subject]);
      assert.match(rhel.observeScript("Root").stdin, /find '\/etc\/pki\/ca-trust\/source' -maxdepth 1 -type f/);
    });

    it("merges anchors, manifest and bundle into one entry per root", () => {
      const ownPath = `/usr/local/share/ca-certificates/trusted-roots-${plain.sha256.toLowerCase()}.crt`;
      const manifest = JSON.stringify({ version: 1, roots: [{ sha256: plain.sha256, sha1: plain.sha1, subject: plain.subject }], distrusted: [] });
      const stdout = observeOutput([
        "@@boot-id 6a1e4b54-0000-4000-8000-000000000001",
        "@@pending-reboot yes",
        `@@manifest ${b64(manifest)}`,
        `@@anchor ${b64(ownPath)} ${b64(plain.pem)}`,
        `@@anchor ${b64("/usr/local/share/ca-certificates/odd name\n'$(x)'.crt")} ${b64(hostile[0].pem + hostile[1].pem)}`,
        `@@anchor ${b64("/usr/local/share/ca-certificates/garbage.crt")} ${b64("not a certificate")}`,
        `@@bundle ${b64(plain.pem + hostile[0].pem + system.pem)}`,
      ]);
      const observed = debian.parseObservation(stdout, "Root");
      assert.equal(observed.bootId, "6a1e4b54-0000-4000-8000-000000000001");
      assert.equal(observed.pendingReboot, true);
      const bySubject = Object.fromEntries(observed.roots.map((root) => [root.subject, root]));
      assert.deepEqual(
        [bySubject[plain.subject].origin, bySubject[plain.subject].trusted, bySubject[plain.subject].locations],
        ["managed", true, [ownPath]],
      );
      assert.deepEqual([bySubject[hostile[0].subject].origin, bySubject[hostile[0].subject].trusted], ["local", true]);
      assert.deepEqual([bySubject[hostile[1].subject].origin, bySubject[hostile[1].subject].trusted], ["local", false], "an anchor not yet in the bundle");
      assert.deepEqual(bySubject[hostile[1].subject].locations, ["/usr/local/share/ca-certificates/odd name\n'$(x)'.crt"]);
      assert.equal(bySubject[system.subject].origin, "system");
      assert.match(observed.warnings.join("\n"), /garbage\.crt: is not a certificate.*\(left alone\)/);
    });

    it("a file named like ours but absent from the manifest is not ours: the manifest is what says this tool installed it", () => {
      const ownPath = `/usr/local/share/ca-certificates/trusted-roots-${plain.sha256.toLowerCase()}.crt`;
      const observed = debian.parseObservation(observeOutput([`@@anchor ${b64(ownPath)} ${b64(plain.pem)}`, `@@bundle ${b64(plain.pem)}`]), "Root");
      assert.equal(observed.roots[0].origin, "local");
    });

    it("an administrator's file holding a managed root stays theirs (regression, issue 21: exact mode deleted it with the root)", () => {
      const ownPath = `/usr/local/share/ca-certificates/trusted-roots-${plain.sha256.toLowerCase()}.crt`;
      const adminPath = "/usr/local/share/ca-certificates/corporate-bundle.crt";
      const manifest = JSON.stringify({ version: 3, roots: [{ sha256: plain.sha256, sha1: plain.sha1, subject: plain.subject, store: "Root", owners: ["web01-root"] }], distrusted: [] });
      const stdout = observeOutput([`@@manifest ${b64(manifest)}`, `@@anchor ${b64(ownPath)} ${b64(plain.pem)}`, `@@anchor ${b64(adminPath)} ${b64(plain.pem + system.pem)}`, `@@bundle ${b64(plain.pem + system.pem)}`]);
      const observed = debian.parseObservation(stdout, "Root");
      const retired = plan({ roots: [], owner: "web01-root" }, observed, "exact");
      // The admin's file makes the root local (it stays trusted through it); only our own file goes.
      assert.deepEqual(retired.removals.map((removal) => [removal.files, removal.leaves]), [[[ownPath], false]]);
      assert.deepEqual(retired.foreign.map((root) => root.subject).sort(), [plain.subject, system.subject].sort());
      assert.deepEqual(retired.manifest.roots, [], "the hold is released: the root is the administrator's now");
    });

    it("a damaged or newer manifest fails closed: observed for reporting, and plan refuses, naming the file, its backup and the fix", () => {
      for (const [text, pattern] of [
        ["{ broken", /manifest\.json is not JSON.*cp -p '\/var\/lib\/trusted-roots\/manifest\.json\.previous'/],
        [JSON.stringify({ version: 9, roots: [] }), /written by a newer trusted-roots \(manifest version 9.*upgrade trusted-roots/],
        [JSON.stringify({ version: 3, roots: [{ sha256: "x" }] }), /unexpected shape \(roots\.0\.sha256/],
      ] as const) {
        const observed = debian.parseObservation(observeOutput([`@@manifest ${b64(text)}`, "@@bundle"]), "Root");
        assert.match(observed.manifestProblem ?? "", pattern);
        assert.throws(() => plan({ roots: [] }, observed, "additive"), (error: unknown) => error instanceof PlanError && pattern.test(error.message));
      }
    });

    it("refuses output that was cut before the end", () => {
      assert.throws(() => debian.parseObservation("@@begin observe\n@@boot-id x\n", "Root"), ProtocolError);
    });

    it("parses what the real observe script prints on this machine (read-only)", function () {
      const bundle = "/etc/ssl/certs/ca-certificates.crt";
      let expected: number;
      try {
        expected = (readFileSync(bundle, "utf8").match(/BEGIN CERTIFICATE/g) ?? []).length;
      } catch {
        return this.skip();
      }
      const script = debian.observeScript("Root");
      const stdout = execFileSync("sh", ["-s"], { input: script.stdin, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      const observed = debian.parseObservation(stdout, "Root");
      assert.equal(observed.roots.filter((root) => root.trusted).length, expected);
      assert.equal(observed.bootId, readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    });

    it("an observation keeps none of the script's output alive (a fleet scan holds a thousand of them)", function () {
      const stdout = execFileSync("sh", ["-s"], { input: debian.observeScript("Root").stdin, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      if (stdout.length < 100_000) return this.skip(); // no OS bundle on this machine
      const measure = `const { debian } = require(${JSON.stringify(require.resolve("../../components/platforms/debian"))});
const output = require("fs").readFileSync(0);
const kept = [];
gc(); const before = process.memoryUsage().heapUsed;
for (let i = 0; i < 100; i++) kept.push(debian.parseObservation(output.toString("utf8"), "Root"));
gc(); process.stdout.write(String((process.memoryUsage().heapUsed - before) / 100));`;
      const retainedBytes = Number(execFileSync(process.execPath, ["--expose-gc", "-e", measure], { input: stdout, encoding: "utf8" }));
      // Each observation holds its roots' records (~30 KB for an OS bundle); the output it came from is ~300 KB.
      assert.ok(retainedBytes < stdout.length / 4, `each observation keeps ${Math.round(retainedBytes / 1024)} KB; its output was ${Math.round(stdout.length / 1024)} KB`);
    });

    it("prints the same observation where base64 has no -w (an older BusyBox): the probe falls back to the pipe through tr", () => {
      const script = debian.observeScript("Root").stdin;
      // A shell function wins over PATH, which the script's prelude resets: base64 refusing -w as BusyBox 1.2x does.
      const withoutWrapOption = `base64() { if [ "$1" = -w ]; then echo "base64: unrecognized option: w" >&2; return 1; fi; command base64 "$@"; }\n${script}`;
      const run = (stdin: string) => execFileSync("sh", ["-s"], { input: stdin, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      const usual = run(script);
      assert.match(usual, /^@@bundle [A-Za-z0-9+/=]{1000,}$/m);
      assert.equal(run(withoutWrapOption), usual);
    });
  });
});

describe("regressions from the invariants (issue 21), on parsed observations", function () {
  this.timeout(60_000);
  const pki = new TestPki();
  const debian = PLATFORMS.debian;
  const b64 = (text: string) => Buffer.from(text).toString("base64");
  const observeOutput = (records: string[]) => ["@@begin observe", ...records, "@@end", ""].join("\n");
  const anchor = (name: string) => `/usr/local/share/ca-certificates/${name}`;
  const own = (certificate: Certificate) => anchor(`trusted-roots-${certificate.sha256.toLowerCase()}.crt`);
  const entry = (certificate: Certificate, store: StoreName, owners: string[]) => ({ sha256: certificate.sha256, sha1: certificate.sha1, subject: certificate.subject, store, owners });
  let root: Certificate, intermediate: Certificate, other: Certificate;

  before(() => {
    const issuer = pki.root("reg-root", "/CN=Regression Root", { key: "ec256" });
    root = parseCertificates(issuer.pem)[0];
    intermediate = parseCertificates(pki.issue("reg-int", "/CN=Regression Intermediate", issuer, { ca: true, key: "ec256" }).pem)[0];
    other = parseCertificates(pki.root("reg-other", "/CN=Regression Other", { key: "ec256" }).pem)[0];
  });

  const host = (manifestEntries: object[], anchors: [string, string][], bundle: string) =>
    observeOutput([
      `@@manifest ${b64(JSON.stringify({ version: 3, roots: manifestEntries, distrusted: [] }))}`,
      ...anchors.map(([path, pem]) => `@@anchor ${b64(path)} ${b64(pem)}`),
      `@@bundle ${b64(bundle)}`,
    ]);

  it("retiring a root takes the intermediate this tool installed under it along, in the same apply; the CA store then withholds it", () => {
    const stdout = host(
      [entry(root, "Root", ["web01-root"]), entry(intermediate, "CA", ["web01-ca"])],
      [[own(root), root.pem], [own(intermediate), intermediate.pem]],
      root.pem + intermediate.pem,
    );
    const rootStore = debian.parseObservation(stdout, "Root");
    const retired = plan({ roots: [], owner: "web01-root" }, rootStore, "exact");
    assert.deepEqual(retired.removals.map((removal) => [removal.subject, removal.reason, removal.files]), [
      [root.subject, "no longer desired", [own(root)]],
      [intermediate.subject, "issuer no longer trusted", [own(intermediate)]],
    ]);
    assert.deepEqual(retired.manifest.roots, [], "both entries go with their files");
    const distrusting = plan({ roots: [], distrusted: [root], owner: "web01-root" }, rootStore, "exact");
    assert.ok(distrusting.removals.some((removal) => removal.sha256 === intermediate.sha256), "a distrust takes it along too");
    // The CA store, on a host where the root is gone: the intermediate is withheld, not installed as an anchor.
    const caStore = debian.parseObservation(host([], [], ""), "CA");
    const withheld = plan({ roots: [intermediate], owner: "web01-ca" }, caStore, "exact");
    assert.deepEqual([withheld.imports, withheld.withheld.map((held) => held.subject)], [[], [intermediate.subject]]);
    assert.match(rootStore.hazards?.map((hazard) => hazard.code).join() ?? "", /^$/, "no hazard while the root is trusted");
    const orphaned = debian.parseObservation(host([], [[anchor("admin-int.crt"), intermediate.pem]], intermediate.pem), "Root");
    assert.deepEqual(orphaned.hazards?.map((hazard) => hazard.code), ["intermediate-without-trusted-root"], "the scan reports an intermediate without its root");
  });

  it("an administrator deletes the file holding the root an installed intermediate hangs on: the CA store's next apply removes the intermediate (counterexample, seed 1254864388)", () => {
    const caStore = debian.parseObservation(host([entry(intermediate, "CA", ["web01-ca"])], [[own(intermediate), intermediate.pem]], intermediate.pem), "CA");
    const next = plan({ roots: [intermediate], owner: "web01-ca" }, caStore, "additive");
    assert.deepEqual(next.imports, []);
    assert.deepEqual(next.removals.map((removal) => [removal.subject, removal.reason, removal.files]), [[intermediate.subject, "issuer no longer trusted", [own(intermediate)]]]);
    assert.deepEqual(next.withheld.map((held) => held.subject), [intermediate.subject]);
  });

  it("an additive declaration that dropped an intermediate it installed still takes it away once its issuer is gone (counterexample)", () => {
    const caStore = debian.parseObservation(host([entry(intermediate, "CA", ["web01-ca"])], [[own(intermediate), intermediate.pem]], intermediate.pem), "CA");
    const next = plan({ roots: [], owner: "web01-ca" }, caStore, "additive");
    assert.deepEqual(next.removals.map((removal) => [removal.subject, removal.reason]), [[intermediate.subject, "issuer no longer trusted"]]);
    assert.deepEqual(next.manifest.roots, []);
  });

  it("a root an administrator's file already provides is held by the declaration that declares it, so another declaration's purgeUnmanaged keeps that file (counterexample, seed 1)", () => {
    const adminFile = anchor("corporate.crt");
    const before = debian.parseObservation(host([], [[adminFile, other.pem]], other.pem), "Root");
    const declaring = plan({ roots: [other], owner: "stack-a" }, before, "exact");
    assert.deepEqual([declaring.imports, declaring.removals], [[], []], "nothing to install: the administrator's copy serves");
    assert.deepEqual(declaring.manifest.roots, [{ sha256: other.sha256, sha1: other.sha1, subject: other.subject, store: "Root", installed: false, owners: ["stack-a"] }]);
    const held = debian.parseObservation(host(declaring.manifest.roots, [[adminFile, other.pem]], other.pem), "Root");
    assert.equal(held.roots[0].origin, "local", "the hold does not make the administrator's file this tool's");
    assert.deepEqual(plan({ roots: [], owner: "stack-b" }, held, "purgeUnmanaged").removals, [], "another declaration's purge keeps it");
    assert.deepEqual(plan({ roots: [], owner: "stack-a" }, held, "exact").removals, [], "retiring it removes nothing of the administrator's");
    assert.deepEqual(plan({ roots: [], owner: "stack-a" }, held, "additive").manifest.roots, [], "the hold lasts only while declared");
    // Without the hold (what an earlier version wrote), the purge took the file, and stack-a's root with it.
    assert.deepEqual(plan({ roots: [], owner: "stack-b" }, before, "purgeUnmanaged").removals.map((removal) => removal.files), [[adminFile]]);
  });

  it("a shipped root deselected with \"!\" but selected again by a later line (an update appended it) counts as trusted, and is distrusted again (counterexample, seed 1254864388)", () => {
    const shipped = "/usr/share/ca-certificates/mozilla/Regression_Other.crt";
    const stdout = observeOutput([
      `@@manifest ${b64(JSON.stringify({ version: 3, roots: [], distrusted: [{ sha256: other.sha256, sha1: other.sha1, subject: other.subject, owners: ["web01"] }] }))}`,
      `@@distrusted ${b64(shipped)} ${b64(other.pem)}`,
      `@@bundle ${b64(other.pem)}`,
    ]);
    const observed = debian.parseObservation(stdout, "Root");
    assert.deepEqual(observed.distrusted, [], "a deselection the bundle does not honour is no distrust");
    const again = plan({ roots: [], distrusted: [other], owner: "web01" }, observed, "additive");
    assert.deepEqual(again.distrusts.map((root) => root.sha256), [other.sha256]);
    // The deselection rewrites every line naming the file as one "!" line.
    assert.match(debian.applyScript(again).stdin, /\(\$0 == rel \|\| \$0 == "!" rel\) \{ if \(!done\) print \(mode == "deselect" \? "!" rel : rel\); done = 1; next \}/);
  });

  it("purgeUnmanaged in the CA store never touches an administrator's root file (each store sees its own kind)", () => {
    const stdout = host([entry(intermediate, "CA", ["web01-ca"])], [[anchor("corporate.crt"), other.pem], [own(intermediate), intermediate.pem]], other.pem + root.pem + intermediate.pem);
    const caStore = debian.parseObservation(stdout, "CA");
    assert.deepEqual(caStore.roots.map((held) => held.subject), [intermediate.subject]);
    assert.deepEqual(plan({ roots: [intermediate], owner: "web01-ca" }, caStore, "purgeUnmanaged").removals, []);
  });

  it("holds are per store: dropping a root from ClientAuthIssuer removes it there though Root still declares it", () => {
    const windowsStore = (store: "Root" | "ClientAuthIssuer"): ObservedStore => ({
      platform: "windows",
      store,
      bootId: "b",
      pendingReboot: false,
      roots: [{ ...identityOf(root), origin: "managed", trusted: true, locations: [".Default"], ownLocations: [".Default"] }],
      distrusted: [],
      distrustBy: "block",
      manifest: { version: 3, roots: [entry(root, "Root", ["iis01-root"]), entry(root, "ClientAuthIssuer", ["iis01-clientauth"])], distrusted: [] },
      manifestDigest: "absent",
      warnings: [],
    });
    const dropped = plan({ roots: [], owner: "iis01-clientauth" }, windowsStore("ClientAuthIssuer"), "exact");
    assert.deepEqual([dropped.removals.map((removal) => removal.subject), dropped.released], [[root.subject], []]);
    assert.deepEqual(dropped.manifest.roots, [entry(root, "Root", ["iis01-root"])], "the Root store's hold is untouched");
  });

  it("a replacement holds under its own instance id: the old instance's delete leaves the new one's hold (create before delete)", () => {
    const oldHolder = newHolder("p/s/web01-root", "0000aaaa");
    const newer = newHolder("p/s/web01-root", "0000bbbb");
    assert.equal(ownerOfHolder(newer), "p/s/web01-root");
    const observed = debian.parseObservation(host([entry(root, "Root", [oldHolder])], [[own(root), root.pem]], root.pem), "Root");
    const claimed = plan({ roots: [root], owner: newer }, observed, "exact");
    const afterClaim = debian.parseObservation(host(claimed.manifest.roots, [[own(root), root.pem]], root.pem), "Root");
    const deleted = plan({ roots: [], owner: oldHolder, keepDistrusts: true }, afterClaim, "exact");
    assert.deepEqual([deleted.removals, deleted.released.map((held) => held.subject)], [[], [root.subject]]);
    assert.deepEqual(deleted.manifest.roots.map((held) => held.owners), [[newer]]);
  });

  it("distrusting a private root the host never had needs no action on Debian: recorded, kept off, verified by absence", () => {
    const observed = debian.parseObservation(host([], [], ""), "Root");
    const distrust = plan({ roots: [], distrusted: [other], owner: "web01-root" }, observed, "exact");
    assert.deepEqual([distrust.distrusts, distrust.manifest.distrusted.map((held) => held.owners)], [[], [["web01-root"]]]);
    // Later an administrator drops a file holding only that root: the next apply removes it (an explicit distrust).
    const appeared = debian.parseObservation(host([], [[anchor("dropped-in.crt"), other.pem]], other.pem), "Root");
    const removal = plan({ roots: [], distrusted: [other], owner: "web01-root" }, appeared, "exact");
    assert.deepEqual(removal.removals.map((held) => [held.reason, held.files]), [["distrusted", [anchor("dropped-in.crt")]]]);
    // A file that trusts it beside other roots is a conflict to resolve by hand: refused, naming the file.
    const mixed = debian.parseObservation(host([], [[anchor("corporate.crt"), other.pem + root.pem]], other.pem + root.pem), "Root");
    assert.throws(() => plan({ roots: [], distrusted: [other], owner: "web01-root" }, mixed, "exact"), (error: unknown) => error instanceof PlanError && /corporate\.crt.*beside other certificates/.test(error.message));
  });
});
