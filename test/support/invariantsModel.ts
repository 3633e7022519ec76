import { strict as assert } from "node:assert";
import { basename } from "node:path";
import fc from "fast-check";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { plan, PlanError, type DesiredStore, type StoreMode } from "../../components/plan";
import { applySteps, ownAnchorPath } from "../../components/platforms/posix";
import type { StoreName } from "../../components/platforms";
import { ApplyError, applyWith, convergeWith, observeWith, planAndApply } from "../../components/store";
import type { HistoryHost, HostState } from "./modelHost";
import type { TestPki } from "./pki";

// The package's promise as invariants, checked after every step of generated histories against a small model:
// I1 every root a live declaration holds is trusted; I2 nothing the tool did not install is removed (except by
// purgeUnmanaged, or a distrust of everything a file holds); I3 a root the tool installed that no live declaration
// holds is not trusted through the tool; I4 a root a live declaration distrusts is not trusted, and an intermediate
// never outlives its root's trust; I5 the manifest parses and agrees with the files; I6 after a crash at any step
// the next run converges. Histories run the real POSIX scripts on a HistoryHost: a model host under a local sh (unit phase), or a lab
// host over SSH with the real update-ca-certificates (lab phase).

export type CertName = "R1" | "R2" | "R3" | "S1" | "I1";
const PRIVATE_ROOTS: CertName[] = ["R1", "R2", "R3"];
const ROOT_POOL: CertName[] = ["R1", "R2", "R3", "S1"];
type DeclName = "A" | "B" | "C";
/** A and B declare roots (two stacks on one host); C is a CA store declaring the intermediate I1 (issued by R1). */
const STORE_OF: Record<DeclName, StoreName> = { A: "Root", B: "Root", C: "CA" };

interface Declaration {
  owner: string;
  previousOwners: string[];
  roots: CertName[];
  distrusted: CertName[];
  mode: StoreMode;
  /** Its last apply succeeded and nothing since (an OS update, an admin) undid what it holds. */
  settled: boolean;
  /** The intermediate's root was trusted when it last applied (otherwise the intermediate is withheld until it runs again). */
  rootTrustedAtApply?: boolean;
}

interface Model {
  declarations: Partial<Record<DeclName, Declaration>>;
  /** Administrators' own files in the anchors directory, by name, and what each holds. */
  adminFiles: Map<string, CertName[]>;
  osDropped: boolean;
  manifestDamaged: boolean;
  /** Owner ids that were deleted: they may hold nothing. */
  gone: Set<string>;
  /** A declaration made anew (after a delete) or renamed gets a new owner id. */
  nextId: number;
}

const newOwner = (model: Model, name: DeclName) => `${name}-${++model.nextId}`;

interface Real {
  host: HistoryHost;
  certs: Record<CertName, Certificate>;
  /** The manifest as it was before a command damaged it, for the operator to restore. */
  goodManifest?: string;
}

function desiredOf(real: Real, declaration: Declaration): DesiredStore {
  return {
    roots: declaration.roots.map((name) => real.certs[name]),
    distrusted: declaration.distrusted.map((name) => real.certs[name]),
    owner: declaration.owner,
    previousOwners: declaration.previousOwners,
  };
}

async function snapshot(real: Real) {
  const state = await real.host.state();
  return { anchors: [...state.anchors].sort(), manifest: state.manifest, conf: state.conf, trusted: [...state.trusted].sort() };
}

/** The owners the host's manifest records for a certificate (none when it is absent or damaged). */
function manifestHolders(text: string | undefined, sha256: string): string[] {
  try {
    const manifest = JSON.parse(text ?? "{}") as { roots?: { sha256: string; owners?: string[] }[] };
    return (manifest.roots ?? []).filter((entry) => entry.sha256 === sha256).flatMap((entry) => entry.owners ?? []);
  } catch {
    return [];
  }
}

/**
 * The holds the tool last recorded: the manifest as it is, or, while it is damaged, as the tool last wrote it
 * (what the operator restores; counterexample seed 1279012302: an intermediate's holder whose apply the damaged
 * manifest stopped still holds it).
 */
function recordedManifest(model: Model, real: Real, current: string | undefined): string | undefined {
  return model.manifestDamaged ? real.goodManifest : current;
}

/** Every declaration's view must stay consistent with every other: a root one declares, none distrusts. */
function conflicts(model: Model, name: DeclName, roots: CertName[], distrusted: CertName[]): boolean {
  return Object.entries(model.declarations).some(
    ([other, declaration]) => other !== name && declaration !== undefined && (declaration.roots.some((root) => distrusted.includes(root)) || declaration.distrusted.some((root) => roots.includes(root))),
  );
}

/** Apply a declaration; a refusal (PlanError) must leave the host exactly as it was. */
async function applyDeclaration(model: Model, real: Real, name: DeclName): Promise<void> {
  const declaration = model.declarations[name]!;
  const before = await snapshot(real);
  try {
    await convergeWith(real.host.runner, real.host.platform, STORE_OF[name], desiredOf(real, declaration), declaration.mode);
    declaration.settled = true;
    declaration.previousOwners = [];
    declaration.rootTrustedAtApply = (await real.host.state()).trusted.has(real.certs.R1.sha256);
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    assert.deepEqual(await snapshot(real), before, `a refused plan changed the host: ${error.message}`);
    declaration.settled = false;
    if (model.manifestDamaged) assert.match(error.message, /manifest.*(not JSON|newer|unexpected shape)/, `I5: a damaged manifest must stop the apply, not: ${error.message}`);
    else assert.match(error.message, /is distrusted, but .* trusts it beside other certificates/, `an unexpected refusal: ${error.message}`);
  }
  await reconcileAdminFiles(model, real, declaration);
}

/** I2: an administrator's file vanishes only by purgeUnmanaged or a distrust of everything in it. */
async function reconcileAdminFiles(model: Model, real: Real, declaration: Declaration): Promise<void> {
  const anchors = (await real.host.state()).anchors;
  for (const [file, held] of [...model.adminFiles]) {
    if (anchors.has(file)) continue;
    const allowed = declaration.mode === "purgeUnmanaged" || held.every((name) => declaration.distrusted.includes(name));
    assert.ok(allowed, `I2: ${file} (${held.join(", ")}) was removed by ${declaration.owner} (${declaration.mode}), which may not remove it`);
    model.adminFiles.delete(file);
  }
}

/** Steps checked so far in this process (every command ends with a check). */
let checkedSteps = 0;

async function checkInvariants(model: Model, real: Real): Promise<void> {
  checkedSteps++;
  const state = await real.host.state();
  const trusted = state.trusted;
  const sha = (name: CertName) => real.certs[name].sha256;
  const name = (sha256: string) => (Object.keys(real.certs) as CertName[]).find((key) => real.certs[key].sha256 === sha256);
  const live = Object.values(model.declarations).filter((declaration): declaration is Declaration => declaration !== undefined);
  const adminHeld = new Set([...model.adminFiles.values()].flat());
  // An intermediate leaves with its root's trust and comes back with the CA store's next apply.
  if (!trusted.has(sha("R1"))) for (const declaration of live) declaration.rootTrustedAtApply = false;
  // I2: every administrator's file is there, unchanged.
  const anchors = state.anchors;
  for (const [file, held] of model.adminFiles) {
    assert.equal(anchors.get(file), held.map((certName) => real.certs[certName].pem).join(""), `I2: ${file} changed`);
  }
  for (const declaration of live.filter((candidate) => candidate.settled)) {
    // I1: what a settled declaration holds is trusted (an intermediate only while its root is).
    for (const root of declaration.roots) {
      if (root === "I1" && !(trusted.has(sha("R1")) && declaration.rootTrustedAtApply)) continue;
      assert.ok(trusted.has(sha(root)), `I1: ${root} is declared by ${declaration.owner} but not trusted`);
    }
    // I4: what a settled declaration distrusts is not trusted.
    for (const root of declaration.distrusted) assert.ok(!trusted.has(sha(root)), `I4: ${root} is distrusted by ${declaration.owner} but trusted`);
  }
  // I4: an intermediate never outlives its root's trust, unless an administrator's own file holds it. When an
  // administrator removes the root, the tool can act only at the next run of a declaration holding it.
  // Holders are declarations naming it, and those the manifest still records for it (additive keeps what it held).
  const recorded = manifestHolders(recordedManifest(model, real, state.manifest), sha("I1"));
  const intermediateSettled = live.filter((declaration) => declaration.roots.includes("I1") || recorded.includes(declaration.owner)).every((declaration) => declaration.settled);
  if (trusted.has(sha("I1")) && !adminHeld.has("I1") && intermediateSettled) assert.ok(trusted.has(sha("R1")), "I4: I1 is trusted without its root R1");
  if (model.manifestDamaged) return;
  // I5: the manifest parses, lists no deleted owner, and agrees with the tool's own files.
  const text = state.manifest;
  const manifest = text === undefined ? { roots: [] as { sha256: string; store?: string; owners?: string[] }[] } : (JSON.parse(text) as { version: number; roots: { sha256: string; store?: string; owners?: string[] }[] });
  const own = [...anchors.keys()].filter((file) => /^trusted-roots-[0-9a-f]{64}\.crt$/.test(file)).map((file) => file.slice(14, 78).toUpperCase());
  for (const fingerprint of own) {
    assert.ok(manifest.roots.some((entry) => entry.sha256 === fingerprint), `I5: the tool's file for ${name(fingerprint)} is not in the manifest`);
  }
  for (const entry of manifest.roots) {
    for (const owner of entry.owners ?? []) assert.ok(!model.gone.has(owner), `I5: deleted owner ${owner} still holds ${name(entry.sha256)}`);
    const holders = live.filter((declaration) => (entry.owners ?? []).includes(declaration.owner) && declaration.settled);
    // An entry a settled holder still declares has its file (or the root is trusted another way).
    if (holders.some((declaration) => declaration.roots.includes(name(entry.sha256)!)) && !(name(entry.sha256) === "I1" && !trusted.has(sha("R1")))) {
      assert.ok(own.includes(entry.sha256) || trusted.has(entry.sha256), `I5: ${name(entry.sha256)} is held but neither its file nor trust is there`);
    }
  }
  // I3: a private root is trusted only if a live declaration holds it, an administrator's file holds it, or an
  // entry of the manifest still records a live holder (additive mode keeps what it held).
  for (const root of PRIVATE_ROOTS) {
    if (!trusted.has(sha(root))) continue;
    const declared = live.some((declaration) => declaration.roots.includes(root));
    // A live declaration holds under its owner id, and under the ids a rename not yet applied still records.
    const heldInManifest = manifest.roots.some(
      (entry) => entry.sha256 === sha(root) && (entry.owners ?? []).some((owner) => live.some((declaration) => declaration.owner === owner || declaration.previousOwners.includes(owner))),
    );
    assert.ok(declared || adminHeld.has(root) || heldInManifest, `I3: ${root} is trusted, but nothing declares or holds it`);
  }
  assert.deepEqual(state.transactions, [], "I6: a finished apply leaves no transaction behind");
}

// ---- commands: what declarations, administrators, OS updates and crashes do to a host ----

class Declare implements fc.AsyncCommand<Model, Real> {
  constructor(readonly name: DeclName, readonly roots: CertName[], readonly distrusted: CertName[], readonly mode: StoreMode) {}
  check(model: Model) {
    return !conflicts(model, this.name, this.roots, this.distrusted);
  }
  async run(model: Model, real: Real) {
    const previous = model.declarations[this.name];
    model.declarations[this.name] = { owner: previous?.owner ?? newOwner(model, this.name), previousOwners: previous?.previousOwners ?? [], roots: this.roots, distrusted: this.distrusted, mode: this.mode, settled: false };
    await applyDeclaration(model, real, this.name);
    await checkInvariants(model, real);
  }
  toString() {
    return `declare ${this.name} ${this.mode} roots=[${this.roots}] distrusted=[${this.distrusted}]`;
  }
}

/** A command on a declaration that exists. */
abstract class OnDeclaration implements fc.AsyncCommand<Model, Real> {
  constructor(readonly name: DeclName) {}
  check(model: Model) {
    return model.declarations[this.name] !== undefined;
  }
  abstract run(model: Model, real: Real): Promise<void>;
}

class Rename extends OnDeclaration {
  async run(model: Model, real: Real) {
    const declaration = model.declarations[this.name]!;
    const next = newOwner(model, this.name);
    model.gone.add(declaration.owner);
    declaration.previousOwners = [...declaration.previousOwners, declaration.owner];
    declaration.owner = next;
    await applyDeclaration(model, real, this.name);
    if (!declaration.settled) model.gone.delete(declaration.previousOwners.at(-1)!);
    await checkInvariants(model, real);
  }
  toString() {
    return `rename ${this.name}`;
  }
}

/** The provider's delete: only what the declaration holds, its distrusts left owner-less. */
class Delete extends OnDeclaration {
  async run(model: Model, real: Real) {
    const declaration = model.declarations[this.name]!;
    const desired = { ...desiredOf(real, declaration), roots: [], distrusted: [], keepDistrusts: true };
    try {
      await planAndApply(real.host.runner, real.host.platform, STORE_OF[this.name], (observed) => plan(desired, observed, "exact"));
    } catch (error) {
      if (!(error instanceof PlanError && model.manifestDamaged)) throw error;
      return;
    }
    delete model.declarations[this.name];
    model.gone.add(declaration.owner);
    for (const previous of declaration.previousOwners) model.gone.add(previous);
    await checkInvariants(model, real);
  }
  toString() {
    return `delete ${this.name}`;
  }
}

class AdminAddsFile implements fc.AsyncCommand<Model, Real> {
  constructor(readonly file: string, readonly held: CertName[]) {}
  check(model: Model) {
    return !model.adminFiles.has(this.file);
  }
  async run(model: Model, real: Real) {
    await real.host.writeAnchor(this.file, this.held.map((name) => real.certs[name].pem).join(""));
    model.adminFiles.set(this.file, this.held);
    await real.host.refresh(false);
    // The administrator's trust may contradict a declaration's distrust until that declaration runs again.
    for (const declaration of Object.values(model.declarations)) if (declaration?.distrusted.some((name) => this.held.includes(name))) declaration.settled = false;
    await checkInvariants(model, real);
  }
  toString() {
    return `admin adds ${this.file} [${this.held}]`;
  }
}

class AdminDeletesFile implements fc.AsyncCommand<Model, Real> {
  check(model: Model) {
    return model.adminFiles.size > 0;
  }
  async run(model: Model, real: Real) {
    const [file, held] = [...model.adminFiles][0];
    await real.host.removeAnchor(file);
    model.adminFiles.delete(file);
    await real.host.refresh(true);
    await unsettleHolders(model, real, held);
    await checkInvariants(model, real);
  }
  toString() {
    return "admin deletes a file";
  }
}

/**
 * Certificates left the host behind the tool's back: every declaration holding one may break its promise until it
 * runs again. So may one holding the intermediate when its issuer R1 left, declared or still recorded as held
 * (counterexamples: seed 1254864388, and an additive declaration that had dropped the intermediate).
 */
async function unsettleHolders(model: Model, real: Real, gone: CertName[]): Promise<void> {
  const holdsIntermediate = manifestHolders(recordedManifest(model, real, (await real.host.state()).manifest), real.certs.I1.sha256);
  const affected = (declaration: Declaration) =>
    declaration.roots.some((name) => gone.includes(name)) || (gone.includes("R1") && (declaration.roots.includes("I1") || holdsIntermediate.includes(declaration.owner)));
  for (const declaration of Object.values(model.declarations)) if (declaration && affected(declaration)) declaration.settled = false;
}

/**
 * The incident this package exists for: an OS update drops private roots (or the intermediate) this tool installed:
 * its own files go, the manifest still lists them. A holder's next run puts them back; until then only the other
 * invariants hold for it.
 */
class OsUpdateDropsOwnFiles implements fc.AsyncCommand<Model, Real> {
  constructor(readonly dropped: CertName[]) {}
  check() {
    return true;
  }
  async run(model: Model, real: Real) {
    const anchors = (await real.host.state()).anchors;
    const files = this.dropped.map((name) => basename(ownAnchorPath(real.host.layout, real.certs[name].sha256))).filter((file) => anchors.has(file));
    for (const file of files) await real.host.removeAnchor(file);
    if (files.length > 0) await real.host.refresh(true);
    await unsettleHolders(model, real, this.dropped);
    await checkInvariants(model, real);
  }
  toString() {
    return `OS update drops the tool's files of [${this.dropped}]`;
  }
}

/** An OS update drops the shipped root S1 (or brings it back). */
class OsUpdate implements fc.AsyncCommand<Model, Real> {
  check() {
    return true;
  }
  async run(model: Model, real: Real) {
    const text = (await real.host.state()).conf;
    const line = real.host.shippedLine;
    await real.host.writeConf(model.osDropped ? `${text}${line}\n` : text.split("\n").filter((entry) => entry !== line).join("\n"));
    model.osDropped = !model.osDropped;
    await real.host.refresh(model.osDropped);
    for (const declaration of Object.values(model.declarations)) if (declaration?.roots.includes("S1") || declaration?.distrusted.includes("S1")) declaration.settled = false;
    await checkInvariants(model, real);
  }
  toString() {
    return "OS update toggles S1";
  }
}

/** The manifest is damaged (or rewritten as an older version); later restored from the backup the tool keeps. */
class ManifestEdit implements fc.AsyncCommand<Model, Real> {
  constructor(readonly kind: "corrupt" | "newer" | "old-format") {}
  check(model: Model) {
    return !model.manifestDamaged;
  }
  async run(model: Model, real: Real) {
    const text = (await real.host.state()).manifest;
    if (text === undefined) return;
    if (this.kind === "old-format") {
      // What 0.2 wrote: version 2, no stores; read as is, and rewritten as version 3 by the next apply.
      const parsed = JSON.parse(text) as { roots: { store?: string }[]; distrusted: unknown[] };
      await real.host.writeManifest(JSON.stringify({ version: 2, roots: parsed.roots.map(({ store: _store, ...rest }) => rest), distrusted: parsed.distrusted }));
    } else {
      real.goodManifest = text;
      await real.host.writeManifest(this.kind === "corrupt" ? text.slice(0, text.length >> 1) : JSON.stringify({ version: 4, roots: [] }));
      model.manifestDamaged = true;
    }
    await checkInvariants(model, real);
  }
  toString() {
    return `manifest ${this.kind}`;
  }
}

class RestoreManifest implements fc.AsyncCommand<Model, Real> {
  check(model: Model) {
    return model.manifestDamaged;
  }
  async run(model: Model, real: Real) {
    await real.host.writeManifest(real.goodManifest!);
    model.manifestDamaged = false;
    await checkInvariants(model, real);
  }
  toString() {
    return "operator restores the manifest";
  }
}

/** The apply dies at step k (no trap runs); the next run must roll it back and converge. */
class CrashThenRerun implements fc.AsyncCommand<Model, Real> {
  constructor(readonly name: DeclName, readonly roots: CertName[], readonly fraction: number) {}
  check(model: Model) {
    return !model.manifestDamaged && !conflicts(model, this.name, this.roots, model.declarations[this.name]?.distrusted ?? []);
  }
  async run(model: Model, real: Real) {
    const previous = model.declarations[this.name];
    const declaration: Declaration = { owner: previous?.owner ?? newOwner(model, this.name), previousOwners: previous?.previousOwners ?? [], roots: this.roots, distrusted: previous?.distrusted ?? [], mode: previous?.mode ?? "exact", settled: false };
    const before = await snapshot(real);
    let storePlan;
    try {
      storePlan = plan(desiredOf(real, declaration), await observeWith(real.host.runner, real.host.platform, STORE_OF[this.name]), declaration.mode);
    } catch (error) {
      if (error instanceof PlanError) return;
      throw error;
    }
    const step = Math.floor(this.fraction * applySteps(real.host.layout, storePlan));
    const crashed = await convergeWith(real.host.crashingAt(step), real.host.platform, STORE_OF[this.name], desiredOf(real, declaration), declaration.mode).then(
      () => false,
      (error: unknown) => {
        if (!(error instanceof ApplyError)) throw error;
        return true;
      },
    );
    if (crashed) {
      // I6: the next apply finds the interrupted transaction and restores the store wholly as it was (files,
      // manifest, selection, what the bundle trusts) before it does anything else; a stale basis makes it stop
      // right there (a digest no manifest has), so what it restored can be compared.
      const recovery = await applyWith(real.host.runner, real.host.platform, { ...storePlan, basis: "0".repeat(64) }).then(
        () => "applied",
        (error: unknown) => (error instanceof ApplyError ? error.step : Promise.reject(error)),
      );
      assert.equal(recovery, "conflict", "I6: an apply over an interrupted one recovers it and stops");
      assert.deepEqual(await snapshot(real), before, "I6: after a crash the host is wholly as before the apply");
      // And the next run converges.
      model.declarations[this.name] = declaration;
      const restored = await planAndApply(real.host.runner, real.host.platform, STORE_OF[this.name], (observed) => plan(desiredOf(real, declaration), observed, declaration.mode)).catch((error: unknown) => error);
      if (restored instanceof PlanError) {
        assert.deepEqual((await snapshot(real)).anchors, before.anchors);
        model.declarations[this.name] = previous;
        return;
      }
      if (restored instanceof Error) throw restored;
      declaration.settled = true;
    } else {
      model.declarations[this.name] = { ...declaration, settled: true };
    }
    await reconcileAdminFiles(model, real, declaration);
    await checkInvariants(model, real);
  }
  toString() {
    return `crash ${this.name} roots=[${this.roots}] at ${Math.round(this.fraction * 100)}% of the apply`;
  }
}

function commands(maxCommands: number): fc.Arbitrary<Iterable<fc.AsyncCommand<Model, Real>>> {
  const rootDecl = fc.constantFrom<DeclName>("A", "B");
  const subset = (pool: CertName[]) => fc.subarray(pool);
  const mode = fc.constantFrom<StoreMode>("additive", "exact", "purgeUnmanaged");
  const declareRoots = fc
    .tuple(rootDecl, subset(ROOT_POOL), subset(ROOT_POOL), mode)
    .map(([name, roots, distrusted, chosen]) => new Declare(name, roots, distrusted.filter((root) => !roots.includes(root)), chosen));
  const declareChain = fc.tuple(fc.boolean(), mode).map(([withIntermediate, chosen]) => new Declare("C", withIntermediate ? ["I1"] : [], [], chosen));
  return fc.commands(
    [
      declareRoots,
      declareRoots,
      declareChain,
      fc.constantFrom<DeclName>("A", "B", "C").map((name) => new Rename(name)),
      fc.constantFrom<DeclName>("A", "B", "C").map((name) => new Delete(name)),
      fc.tuple(fc.constantFrom("corporate.crt", "extra.crt"), fc.subarray(["R1", "R2", "R3", "I1"] as CertName[], { minLength: 1 })).map(([file, held]) => new AdminAddsFile(file, held)),
      fc.constant(new AdminDeletesFile()),
      fc.constant(new OsUpdate()),
      fc.subarray(["R1", "R2", "R3", "I1"] as CertName[], { minLength: 1 }).map((dropped) => new OsUpdateDropsOwnFiles(dropped)),
      fc.constantFrom("corrupt", "newer", "old-format").map((kind) => new ManifestEdit(kind as "corrupt" | "newer" | "old-format")),
      fc.constant(new RestoreManifest()),
      // Whole per-mille steps: fc.double leans so hard on tiny values that every crash fell before the first change.
      fc.tuple(rootDecl, subset(ROOT_POOL), fc.integer({ min: 0, max: 999 })).map(([name, roots, perMille]) => new CrashThenRerun(name, roots, perMille / 1000)),
    ],
    // "max": histories as long as maxCommands allows, not the short ones fast-check draws by default (2.7 steps).
    { maxCommands, size: "max" },
  );
}


const newModel = (): Model => ({ declarations: {}, adminFiles: new Map(), osDropped: false, manifestDamaged: false, gone: new Set(), nextId: 0 });

/** How many histories to run, and on which hosts. */
export interface HistoryRun {
  certs: Record<CertName, Certificate>;
  /** A fresh host for one history, and how to be rid of it. */
  host(): Promise<{ host: HistoryHost; release(): Promise<void> }>;
  seed: number;
  maxCommands: number;
  /** A count of histories (the same histories on any machine), or a time budget. */
  budget: { runs: number; shrink: boolean } | { seconds: number };
}

/** Run generated histories, checking every invariant after every step; resolves with how many ran. */
export async function runHistories(run: HistoryRun): Promise<{ histories: number; steps: number }> {
  let histories = 0;
  const stepsBefore = checkedSteps;
  await fc.assert(
    fc.asyncProperty(commands(run.maxCommands), async (history) => {
      histories++;
      const { host, release } = await run.host();
      try {
        const model = newModel();
        await fc.asyncModelRun(() => ({ model, real: { host, certs: run.certs } }), history);
      } finally {
        await release();
      }
    }),
    "runs" in run.budget
      ? { seed: run.seed, numRuns: run.budget.runs, endOnFailure: !run.budget.shrink }
      : { seed: run.seed, numRuns: 100_000, interruptAfterTimeLimit: run.budget.seconds * 1000, markInterruptAsFailure: false },
  );
  return { histories, steps: checkedSteps - stepsBefore };
}

/** The steps a named history is written in (the generated histories draw the same ones). */
export const step = {
  declare: (name: DeclName, roots: CertName[], distrusted: CertName[], mode: StoreMode) => new Declare(name, roots, distrusted, mode),
  adminAddsFile: (file: string, held: CertName[]) => new AdminAddsFile(file, held),
  adminDeletesFile: () => new AdminDeletesFile(),
  manifest: (kind: "corrupt" | "newer" | "old-format") => new ManifestEdit(kind),
  restoreManifest: () => new RestoreManifest(),
  osUpdateDropsOwnFiles: (dropped: CertName[]) => new OsUpdateDropsOwnFiles(dropped),
  delete: (name: DeclName) => new Delete(name),
  rename: (name: DeclName) => new Rename(name),
};

/** One given history (a counterexample, named), every invariant checked after every step; the host's last state. */
export async function replayHistory(certs: Record<CertName, Certificate>, host: HistoryHost, history: fc.AsyncCommand<Model, Real>[]): Promise<HostState> {
  const model = newModel();
  const real: Real = { host, certs };
  for (const command of history) {
    assert.ok(command.check(model), `${command.toString()} cannot run here`);
    await command.run(model, real);
  }
  return host.state();
}

/** The model's certificates: three private roots, a shipped one, an intermediate under R1. */
export function modelCertificates(pki: TestPki): Record<CertName, Certificate> {
  const r1 = pki.root("r1", "/CN=Model Root R1", { key: "ec256" });
  const cert = (pem: string) => parseCertificates(pem)[0];
  return {
    R1: cert(r1.pem),
    R2: cert(pki.root("r2", "/CN=Model Root R2", { key: "ec256" }).pem),
    R3: cert(pki.root("r3", "/CN=Model Root R3", { key: "ec256" }).pem),
    S1: cert(pki.root("s1", "/CN=Model Shipped S1", { key: "ec256" }).pem),
    I1: cert(pki.issue("i1", "/CN=Model Intermediate I1", r1, { ca: true, key: "ec256" }).pem),
  };
}

