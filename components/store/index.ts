import { describeCertificate } from "../certificates";
import { plan as planStore, planChangesStore, type DesiredStore, type StoreMode } from "../plan";
import { platformFor, ProtocolError, type ObservedStore, type Platform, type PlatformName, type StoreName, type StorePlan } from "../platforms";
import { createJavaKeystorePlatform, type JavaKeystoreLocation } from "../platforms/java";
import type { PosixPlatform } from "../platforms/posix";
import { createWindowsJavaKeystorePlatform } from "../platforms/windowsJava";
import { describeStderr } from "../platforms/clixml";
import { PHASES, SshSession, timedPhase, timedPhaseSync, withSession, type ScriptRunner, type SessionOptions, type SshTargetInput } from "../transport";

/** One trust store on one server. */
export interface StoreTarget {
  connection: SshTargetInput;
  platform: PlatformName;
  /** Windows logical store; Linux has Root and CA, and Java (with `keystore`). */
  store?: StoreName;
  /** The "Java" store: which keystore, and its password. */
  keystore?: { location: JavaKeystoreLocation; password: string };
}

/** The platform that reads and writes the target's store: its family's, or a Java keystore on a host of it. */
export function platformOfTarget(target: StoreTarget): Platform {
  const family = platformFor(target.platform);
  if ((target.store ?? "Root") !== "Java") return family;
  if (!target.keystore) throw new Error(`internal: a Java store needs a keystore (${target.platform})`);
  const where = target.keystore.location;
  const label = `${target.connection.host} Java keystore ${where.kind === "jvm" ? "(the default JVM)" : where.kind === "jdk" ? `of ${where.javaHome}` : where.path}`;
  if (target.platform === "windows") return createWindowsJavaKeystorePlatform({ ...target.keystore, label });
  return createJavaKeystorePlatform(family as PosixPlatform, { ...target.keystore, label });
}

/** An apply that did not complete; the host was put back as it was unless `rolledBack` is false. */
export class ApplyError extends Error {
  constructor(
    readonly host: string,
    readonly step: string,
    readonly rolledBack: boolean,
    detail: string,
    readonly observed?: ObservedStore,
    /** The script never changed anything (it did not start, or stopped before its first change). */
    readonly nothingChanged = false,
  ) {
    super(
      `${host}: apply failed at step "${step}": ${detail}` +
        (nothingChanged
          ? "; nothing on the host was changed"
          : rolledBack
            ? "; the previous roots and manifest were restored"
            : "; the host could NOT be fully restored, inspect it"),
    );
    this.name = "ApplyError";
  }
}

export interface ApplyResult {
  plan: StorePlan;
  /** True when the host's trust changed (roots added, removed or distrusted): the trigger for restarts. */
  changed: boolean;
  before: ObservedStore;
  after: ObservedStore;
}

async function observeIn(session: SshSession, target: StoreTarget): Promise<ObservedStore> {
  return observeWith(session, platformOfTarget(target), target.store ?? "Root");
}

/** Observe through any platform implementation (a real family, or the self-test's scratch store). */
export async function observeWith(session: ScriptRunner, platform: Platform, store: StoreName): Promise<ObservedStore> {
  const result = await timedPhase(PHASES.observe, () => session.exec(platform.observeScript(store)));
  try {
    return timedPhaseSync(PHASES.parseObservation, () => platform.parseObservation(result.stdout, store));
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new Error(`${session.label}: observe failed (exit code ${result.exitCode}): ${error.message}; stderr: ${describeStderr(result.stderr)}`);
    }
    throw error;
  }
}

/** Several stores of one host (one connection), read in one SSH session, in order. */
export function observeStores(targets: readonly [StoreTarget, ...StoreTarget[]], options?: SessionOptions): Promise<ObservedStore[]> {
  return withSession(
    targets[0].connection,
    async (session) => {
      const observed: ObservedStore[] = [];
      for (const target of targets) observed.push(await observeIn(session, target));
      return observed;
    },
    options,
  );
}

/** What the store holds now: one SSH session, one command, read-only. */
export function observeStore(target: StoreTarget, options?: SessionOptions): Promise<ObservedStore> {
  return withSession(target.connection, (session) => observeIn(session, target), options);
}

/** Apply a plan in an open session: one command that changes the store atomically and observes it after. */
export async function applyPlanIn(session: SshSession, target: StoreTarget, storePlan: StorePlan): Promise<ObservedStore> {
  return applyWith(session, platformOfTarget(target), storePlan);
}

/** Apply through any platform implementation; verified like every apply. */
export async function applyWith(session: ScriptRunner, platform: Platform, storePlan: StorePlan): Promise<ObservedStore> {
  const result = await timedPhase(PHASES.apply, () => session.exec(platform.applyScript(storePlan)));
  let outcome;
  try {
    outcome = timedPhaseSync(PHASES.parseApply, () => platform.parseApply(result.stdout, storePlan.store));
  } catch (error) {
    // No @@begin record: the script never started, so nothing can have changed.
    const nothingChanged = !/^@@begin/m.test(result.stdout) || (error instanceof ProtocolError && error.nothingChanged);
    const stepReached = nothingChanged ? "start" : "unknown (output cut)";
    throw new ApplyError(session.label, stepReached, nothingChanged, `${(error as Error).message}; stderr: ${describeStderr(result.stderr)}`, undefined, nothingChanged);
  }
  if (outcome.failedStep) {
    // The lock, the conflict check and a Java store's prerequisites come before the first change: nothing was touched.
    const nothingChanged = outcome.failedStep === "lock" || outcome.failedStep === "conflict" || outcome.failedStep === "prerequisite";
    throw new ApplyError(session.label, outcome.failedStep, outcome.rolledBack || nothingChanged, outcome.failureDetail || "no detail", outcome.observed, nothingChanged);
  }
  const problems = timedPhaseSync(PHASES.verify, () => verificationProblems(storePlan, outcome.observed));
  if (problems.length > 0) {
    throw new ApplyError(session.label, "verify", false, `the store does not hold what was applied: ${problems.join("; ")}`, outcome.observed);
  }
  return outcome.observed;
}

/** Apply a given plan: one SSH session. */
export function applyPlan(target: StoreTarget, storePlan: StorePlan, options?: SessionOptions): Promise<ObservedStore> {
  return withSession(target.connection, (session) => applyPlanIn(session, target, storePlan), options);
}

/**
 * Make the store hold what is desired: observe, plan, apply only if something changes, verify.
 * One SSH session in all; no refresh command runs when nothing changes.
 */
export function converge(target: StoreTarget, desired: DesiredStore, mode: StoreMode, options?: SessionOptions): Promise<ApplyResult> {
  return planAndApplyOn(target, (observed) => planStore(desired, observed, mode), options);
}

/** planAndApply on one target, in one SSH session. */
export function planAndApplyOn(target: StoreTarget, planFor: (observed: ObservedStore) => StorePlan, options?: SessionOptions): Promise<ApplyResult> {
  return withSession(target.connection, (session) => planAndApply(session, platformOfTarget(target), target.store ?? "Root", planFor), options);
}

/** converge over any runner and platform implementation (an SSH session, or a local shell on a scratch store). */
export function convergeWith(runner: ScriptRunner, platform: Platform, store: StoreName, desired: DesiredStore, mode: StoreMode): Promise<ApplyResult> {
  return planAndApply(runner, platform, store, (observed) => planStore(desired, observed, mode));
}

/**
 * Observe, plan with `planFor`, apply when the plan changes trust or the manifest. Another run may change the
 * store between our observation and our apply (several declarations share a host's manifest); the apply then
 * refuses ("conflict", nothing changed) and we observe and plan again, after a short random pause.
 */
export async function planAndApply(runner: ScriptRunner, platform: Platform, store: StoreName, planFor: (observed: ObservedStore) => StorePlan): Promise<ApplyResult> {
  for (let attempt = 1; ; attempt++) {
    const before = await observeWith(runner, platform, store);
    const storePlan = timedPhaseSync(PHASES.plan, () => planFor(before));
    if (!planChangesStore(storePlan) && !storePlan.manifestChanged) return { plan: storePlan, changed: false, before, after: before };
    try {
      // A manifest-only apply (a hold claimed or released) rewrites the manifest and changes no trust.
      const after = await applyWith(runner, platform, storePlan);
      return { plan: storePlan, changed: planChangesStore(storePlan), before, after };
    } catch (error) {
      if (!(error instanceof ApplyError && error.step === "conflict" && attempt < CONFLICT_ATTEMPTS)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * attempt));
    }
  }
}

const CONFLICT_ATTEMPTS = 10;

/** What a plan promised that the observed store does not show. */
export function verificationProblems(storePlan: StorePlan, after: ObservedStore): string[] {
  const trusted = new Set(after.roots.filter((root) => root.trusted && !root.osMayDrop).map((root) => root.sha256));
  const visible = [...after.roots, ...(after.neighbours ?? [])];
  const present = new Set(visible.filter((root) => root.trusted || root.locations.length > 0).map((root) => root.sha256));
  const distrusted = new Set(after.distrusted.map((root) => root.sha256));
  // Where only shipped roots can be deselected, any other root is distrusted by being nowhere on the host.
  const isDistrusted = (sha256: string) => distrusted.has(sha256) || (after.distrustBy === "absence" && !present.has(sha256));
  return [
    ...storePlan.imports
      .filter((root) => !trusted.has(root.sha256))
      .map((root) =>
        after.roots.some((held) => held.sha256 === root.sha256 && held.osMayDrop)
          ? `${describeCertificate(root)} is still only where the OS may drop it (${after.roots.find((held) => held.sha256 === root.sha256)?.locations.join(", ")})`
          : `${describeCertificate(root)} is not trusted`,
      ),
    ...storePlan.removals
      .filter((removal) => {
        const held = visible.find((root) => root.sha256 === removal.sha256);
        return held !== undefined && (held.locations.some((place) => removal.files.includes(place)) || (removal.leaves && present.has(removal.sha256) && held.origin !== "system"));
      })
      .map((removal) => `${describeCertificate(removal)} is still present`),
    ...storePlan.distrusts.filter((root) => !isDistrusted(root.sha256)).map((root) => `${describeCertificate(root)} is not distrusted`),
    ...storePlan.undistrusts.filter((root) => distrusted.has(root.sha256)).map((root) => `${describeCertificate(root)} is still distrusted`),
  ];
}
