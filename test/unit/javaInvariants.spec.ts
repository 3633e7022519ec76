import { strict as assert } from "node:assert";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { readKeystore } from "../../components/keystores";
import { plan } from "../../components/plan";
import { PLATFORMS, type Platform } from "../../components/platforms";
import { createJavaKeystorePlatform } from "../../components/platforms/java";
import type { PosixPlatform } from "../../components/platforms/posix";
import { deletionPlan } from "../../components/resources/trustStoreCore";
import { applyWith, convergeWith, observeWith, planAndApply } from "../../components/store";
import { createWindowsJavaKeystorePlatform } from "../../components/platforms/windowsJava";
import type { ScriptRunner } from "../../components/transport";
import { CrashingShell } from "../support/modelHost";
import { SimulatedWindowsJavaHost } from "../support/windowsJavaHost";
import { LocalShell } from "../support/localShell";
import { TestPki } from "../support/pki";

// What must hold for a Java keystore whatever happens to it, checked after every step of generated histories on
// the real scripts, a real scratch truststore and the JDK's keytool (for the administrator's hands):
//   J1  the keystore always opens with its password, and the key pair in it is the one it always was;
//   J2  an administrator's entry (an alias this tool did not give) is never removed or changed by an apply;
//   J3  after a declaration applies, every root it declares is in the keystore;
//   J4  after an apply, every entry under this tool's alias is a root some living declaration holds;
//   J5  a deleted declaration holds nothing in the manifest.

const KEYTOOL = "/usr/lib/jvm/java-17-openjdk-amd64/bin/keytool";
const PASSWORD = "invariant-pass";
type RootName = "R1" | "R2" | "R3" | "A1";
type Owner = "stack-a/app-java" | "stack-b/app-java";
const OWNERS: Owner[] = ["stack-a/app-java", "stack-b/app-java"];
const OURS: RootName[] = ["R1", "R2", "R3"];

interface Model {
  holds: Map<Owner, Set<RootName>>;
  /** The administrator's entries: alias -> root. */
  admin: Map<string, RootName>;
  nextAlias: number;
}

interface Real {
  dir: string;
  store: Platform;
  /** The host the store's scripts run on, and the same host with the apply dying at a step. */
  runner: ScriptRunner;
  crashingAt(step: number): ScriptRunner;
  certs: Record<RootName, Certificate>;
  pristine: string;
  path: string;
  /** The key pair's bytes as keytool made them. */
  keyEntry: Buffer;
}

const keytool = (args: string[]) => execFileSync(KEYTOOL, args, { stdio: ["ignore", "pipe", "pipe"] });

function check(model: Model, real: Real, applied?: Owner): void {
  const keystore = readKeystore(readFileSync(real.path), PASSWORD, real.path); // J1: opens
  const key = keystore.entries.find((entry) => entry.alias === "tomcat");
  assert.ok(key?.encoded.equals(real.keyEntry), "J1: the key pair is untouched");
  const trusted = new Map(keystore.entries.filter((entry) => entry.kind === "trusted").map((entry) => [entry.alias, entry.certificate!]));
  const sha = (name: RootName) => real.certs[name].der;
  for (const [alias, name] of model.admin) assert.ok(trusted.get(alias)?.equals(sha(name)), `J2: the administrator's ${alias} (${name}) is gone or changed`);
  if (applied) {
    for (const name of model.holds.get(applied) ?? []) assert.ok([...trusted.values()].some((der) => der.equals(sha(name))), `J3: ${applied} declares ${name}, which the keystore lacks`);
    const held = new Set([...model.holds.values()].flatMap((names) => [...names]).map((name) => real.certs[name].sha256));
    for (const [alias, der] of trusted) {
      if (!alias.startsWith("trusted-roots-")) continue;
      const [certificate] = parseCertificates(der);
      assert.ok(held.has(certificate.sha256), `J4: ${alias} (${certificate.subject}) is held by no declaration`);
    }
  }
}

async function manifestOwners(real: Real): Promise<string[]> {
  const observed = await observeWith(real.runner, real.store, "Java");
  return observed.manifest.roots.flatMap((entry) => entry.owners ?? []);
}

type Command = fc.AsyncCommand<Model, Real>;

class Declare implements Command {
  constructor(readonly owner: Owner, readonly roots: RootName[], readonly crashAt?: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const desired = { roots: this.roots.map((name) => real.certs[name]), owner: this.owner };
    if (this.crashAt !== undefined) {
      const observed = await observeWith(real.runner, real.store, "Java");
      const storePlan = plan(desired, observed, "exact");
      // A crash at a step the apply never reaches (nothing to change) is simply a run.
      await applyWith(real.crashingAt(this.crashAt), real.store, storePlan).catch(() => undefined);
      check(model, real);
    }
    await convergeWith(real.runner, real.store, "Java", desired, "exact");
    model.holds.set(this.owner, new Set(this.roots));
    check(model, real, this.owner);
  }
  toString = () => `declare(${this.owner}, [${this.roots.join(",")}]${this.crashAt === undefined ? "" : `, crash at ${this.crashAt}`})`;
}

class Delete implements Command {
  constructor(readonly owner: Owner) {}
  check = (model: Readonly<Model>) => model.holds.has(this.owner);
  async run(model: Model, real: Real): Promise<void> {
    const declared = [...(model.holds.get(this.owner) ?? [])].map((name) => real.certs[name].sha256);
    await planAndApply(real.runner, real.store, "Java", (observed) => deletionPlan(observed, declared, this.owner));
    model.holds.delete(this.owner);
    check(model, real, this.owner);
    assert.ok(!(await manifestOwners(real)).includes(this.owner), `J5: the deleted ${this.owner} still holds a root`);
  }
  toString = () => `delete(${this.owner})`;
}

class AdminImports implements Command {
  constructor(readonly root: RootName) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const alias = `admin-${model.nextAlias++}`;
    const file = join(real.dir, `${alias}.crt`);
    writeFileSync(file, real.certs[this.root].pem);
    keytool(["-importcert", "-noprompt", "-alias", alias, "-file", file, "-keystore", real.path, "-storepass", PASSWORD]);
    model.admin.set(alias, this.root);
    check(model, real);
  }
  toString = () => `admin imports ${this.root}`;
}

class AdminDeletes implements Command {
  /** Which of the keystore's trusted entries, by its position: ours too (drift). */
  constructor(readonly pick: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const aliases = readKeystore(readFileSync(real.path), PASSWORD, real.path).entries.filter((entry) => entry.kind === "trusted").map((entry) => entry.alias);
    if (aliases.length === 0) return;
    const alias = aliases[this.pick % aliases.length];
    keytool(["-delete", "-alias", alias, "-keystore", real.path, "-storepass", PASSWORD]);
    model.admin.delete(alias);
    check(model, real);
  }
  toString = () => `admin deletes entry #${this.pick}`;
}

class Upgrade implements Command {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    copyFileSync(real.pristine, real.path);
    model.admin = new Map([["admins-root", "A1"]]);
    check(model, real);
  }
  toString = () => "the JDK/application upgrade ships the truststore afresh";
}

const roots = fc.subarray(OURS);
const owner = fc.constantFrom(...OWNERS);
const commands = fc.commands(
  [
    fc.tuple(owner, roots).map(([who, names]) => new Declare(who, names)),
    fc.tuple(owner, roots, fc.integer({ min: 0, max: 2 })).map(([who, names, step]) => new Declare(who, names, step)),
    owner.map((who) => new Delete(who)),
    fc.constantFrom<RootName>("A1", "R1", "R2").map((name) => new AdminImports(name)),
    fc.nat(20).map((pick) => new AdminDeletes(pick)),
    fc.constant(new Upgrade()),
  ],
  { maxCommands: 8, size: "max" },
);

/**
 * The same histories on each host kind: Linux runs the real sh scripts; Windows runs the rendered PowerShell's
 * payloads on a simulated host (test/support/windowsJavaHost.ts), since no machine here runs PowerShell.
 */
const HOSTS = {
  "Linux (the real scripts)": { budgetShare: 1, open: linuxTruststore },
  "Windows (the rendered payloads on a simulated host)": { budgetShare: 0.5, open: windowsTruststore },
};

function linuxTruststore(dir: string, path: string): Pick<Real, "store" | "runner" | "crashingAt"> {
  const debian = PLATFORMS.debian as PosixPlatform;
  const store = createJavaKeystorePlatform({ ...debian, layout: { ...debian.layout, stateDir: join(dir, "state") } }, { location: { kind: "file", path }, password: PASSWORD, label: "model truststore" });
  return { store, runner: new LocalShell(), crashingAt: (step) => new CrashingShell(step) };
}

function windowsTruststore(dir: string, path: string): Pick<Real, "store" | "runner" | "crashingAt"> {
  const windowsPath = "C:\\app\\conf\\truststore.p12";
  const store = createWindowsJavaKeystorePlatform({ location: { kind: "file", path: windowsPath }, password: PASSWORD, label: "model truststore" });
  const host = new SimulatedWindowsJavaHost(path, windowsPath, join(dir, "state"), KEYTOOL);
  return { store, runner: host, crashingAt: (step) => host.crashingAt(step) };
}

for (const [hostKind, { budgetShare, open }] of Object.entries(HOSTS)) describe(`Java keystore invariants over generated histories on ${hostKind} (fast-check, keytool)`, function () {
  const budgetSeconds = Number(process.env.TRL_PROPERTY_SECONDS ?? 60) * budgetShare;
  this.timeout((budgetSeconds + 600) * 1000);
  const pki = new TestPki();
  let certs: Record<RootName, Certificate>;
  let template: string;

  before(() => {
    const root = (name: string, subject: string) => parseCertificates(readFileSync(pki.root(name, subject, { key: "ec256" }).certPath))[0];
    // R2 renews R1 (same subject, another key): the aliases must tell them apart.
    certs = { R1: root("j-r1", "/CN=Java Model Root"), R2: root("j-r2", "/CN=Java Model Root"), R3: root("j-r3", "/CN=Java Model Root 3"), A1: root("j-a1", "/CN=Admin Root") };
    template = mkdtempSync(join(tmpdir(), "trusted-roots-java-model-"));
    writeFileSync(join(template, "a1.crt"), certs.A1.pem);
    const path = join(template, "truststore.p12");
    keytool(["-importcert", "-noprompt", "-alias", "admins-root", "-file", join(template, "a1.crt"), "-keystore", path, "-storetype", "PKCS12", "-storepass", PASSWORD]);
    keytool(["-genkeypair", "-alias", "tomcat", "-keyalg", "EC", "-dname", "CN=tomcat", "-keystore", path, "-storepass", PASSWORD, "-keypass", PASSWORD]);
  });

  after(() => rmSync(template, { recursive: true, force: true }));

  /** One history on a fresh copy of the truststore, every invariant checked after every step. */
  async function inFreshTruststore(run: (model: Model, real: Real) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), "trusted-roots-java-history-"));
    try {
      const pristine = join(template, "truststore.p12");
      const path = join(dir, "truststore.p12");
      copyFileSync(pristine, path);
      const keyEntry = readKeystore(readFileSync(pristine), PASSWORD, pristine).entries.find((entry) => entry.alias === "tomcat")!.encoded;
      await run({ holds: new Map(), admin: new Map([["admins-root", "A1"]]), nextAlias: 0 }, { dir, ...open(dir, path), certs, pristine, path, keyEntry });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("counterexample (seed 1293615851): an administrator's entries made after an interrupted apply survive its recovery (no rollback to the old backup)", async () => {
    await inFreshTruststore(async (model, real) => {
      for (const command of [new Declare("stack-b/app-java", [], 1), new AdminImports("A1"), new Delete("stack-b/app-java"), new AdminImports("R1"), new Declare("stack-b/app-java", ["R1", "R2", "R3"], 1)]) {
        if (command.check(model)) await command.run(model, real);
      }
    });
  });

  it("an apply interrupted after its write, then an administrator's edit: the edit and this apply's entries both stay, with the holds it planned", async () => {
    await inFreshTruststore(async (model, real) => {
      const observed = await observeWith(real.runner, real.store, "Java");
      await assert.rejects(applyWith(real.crashingAt(1), real.store, plan({ roots: [real.certs.R3], owner: "stack-a/app-java" }, observed, "exact")));
      await new AdminImports("A1").run(model, real);
      // The recovery keeps both and writes the planned manifest: R3 is this tool's and held, so it is never an orphan.
      const after = await convergeWith(real.runner, real.store, "Java", { roots: [real.certs.R3], owner: "stack-a/app-java" }, "exact");
      model.holds.set("stack-a/app-java", new Set(["R3"]));
      assert.equal(after.changed, false, "nothing left to do: R3 is in, and held");
      assert.deepEqual(after.after.manifest.roots.map((entry) => [entry.sha256, entry.owners]), [[real.certs.R3.sha256, ["stack-a/app-java"]]]);
      check(model, real, "stack-a/app-java");
    });
  });

  it("J1-J5 hold after every step of every history (seeded; a failure prints its seed and a shrunk history)", async () => {
    const seed = Number(process.env.TRL_PROPERTY_SEED ?? (process.env.CI === "true" ? 1 : Date.now() % 2 ** 31));
    let histories = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(commands, async (history) => {
        histories++;
        await inFreshTruststore((model, real) => fc.asyncModelRun(() => ({ model, real }), history));
      }),
      { seed, numRuns: 100_000, interruptAfterTimeLimit: budgetSeconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`      Java invariants on ${hostKind}: ${histories} histories in ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${seed} (TRL_PROPERTY_SEED=${seed} replays them)`);
    assert.ok(histories >= 3, `only ${histories} histories ran in ${budgetSeconds} s: too few to mean anything`);
    assert.ok(existsSync(template));
  });
});
