import { describeCertificate, uniqueCertificates, type Certificate } from "../certificates";
import { identityOf } from "../platforms/observation";
import type {
  CertificateIdentity,
  Manifest,
  ManifestEntry,
  ObservedRoot,
  ObservedStore,
  PlannedRemoval,
  PlannedRoot,
  StorePlan,
} from "../platforms/types";

export const STORE_MODES = ["additive", "exact", "purgeUnmanaged"] as const;
/**
 * - additive:       only add what is missing,
 * - exact:          also remove roots this tool installed that are no longer declared,
 * - purgeUnmanaged: also remove local roots nobody declared (never OS-shipped or Group Policy roots).
 */
export type StoreMode = (typeof STORE_MODES)[number];

/** Who declares the roots when the caller names nobody (a library call, a script). */
export const DEFAULT_OWNER = "trusted-roots";

export interface DesiredStore {
  roots: readonly Certificate[];
  distrusted?: readonly Certificate[];
  /**
   * The declaration these roots belong to: a stable id per server and store. Removing a root takes away only
   * this owner's hold on it; the root leaves the host when no owner holds it any more. Default DEFAULT_OWNER.
   */
  owner?: string;
  /** Earlier ids of the same declaration (a renamed resource): their holds become this owner's. */
  previousOwners?: readonly string[];
  /**
   * The declaration is being deleted: its distrusts stay on the host, without an owner (a declaration that
   * distrusts the root later adopts them). Deleting a declaration never trusts a root again; only removing it
   * from a living declaration's `distrusted` does.
   */
  keepDistrusts?: boolean;
}

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanError";
  }
}

/** What must change so `observed` holds exactly what `desired` declares under `mode`. Pure. */
export function plan(desired: DesiredStore, observed: ObservedStore, mode: StoreMode): StorePlan {
  const distrustedWanted = desired.distrusted ?? [];
  const distrustedSet = new Set(distrustedWanted.map((root) => root.sha256));
  const conflicts = desired.roots.filter((root) => distrustedSet.has(root.sha256));
  if (conflicts.length > 0) {
    throw new PlanError(
      `${conflicts.map(describeCertificate).join(", ")} ${conflicts.length === 1 ? "is" : "are"} both desired and ` +
        "distrusted; remove each from one of the two lists",
    );
  }
  const desiredSet = new Set(desired.roots.map((root) => root.sha256));
  const observedBySha = new Map(observed.roots.map((root) => [root.sha256, root]));
  const owners = ownership(observed.manifest.roots, desired);
  const distrustOwners = ownership(observed.manifest.distrusted, desired);

  const imports: PlannedRoot[] = [];
  const unchanged: CertificateIdentity[] = [];
  for (const root of uniqueCertificates(desired.roots)) {
    const held = observedBySha.get(root.sha256);
    // Trusted only where the OS may drop it on its own (Windows .AuthRoot): imported so that it stays.
    if (held?.trusted && !held.osMayDrop) unchanged.push(identityOf(root));
    else imports.push({ ...identityOf(root), der: root.der });
  }

  const removals: PlannedRemoval[] = [];
  const filesHoldingWanted = new Set(
    observed.roots.filter((root) => desiredSet.has(root.sha256)).flatMap((root) => root.locations),
  );
  const released: CertificateIdentity[] = [];
  for (const root of observed.roots) {
    const reason = removalReason(root, desiredSet, distrustedSet, mode, owners);
    if (!reason) continue;
    if (reason === "no longer desired" && owners.others(root.sha256).length > 0) {
      released.push(identityOf(root));
      continue;
    }
    // A local file holding a wanted root too cannot be removed without losing that root.
    const files = root.locations.filter((file) => !filesHoldingWanted.has(file));
    if (files.length === 0 && !(root.origin === "managed" && root.trusted)) continue;
    removals.push({ ...identityOf(root), reason, files: root.origin === "managed" ? root.locations : files });
  }

  const purged = removals.filter((removal) => removal.reason === "not declared (purgeUnmanaged)");
  if (purged.length > 0 && observed.trustListPresent === false) {
    throw new PlanError(
      `purgeUnmanaged would remove ${purged.length} undeclared root(s) from ${observed.store}, but the host holds no Microsoft trust list ` +
        "(HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\AuthRoot\\AutoUpdate), so Microsoft's own roots cannot be told from local ones. " +
        "Let Windows fetch it (certutil -generateSSTFromWU, or automatic root update), or use mode exact",
    );
  }

  const alreadyDistrusted = new Set(observed.distrusted.map((root) => root.sha256));
  const distrusts: PlannedRoot[] = uniqueCertificates(distrustedWanted)
    .filter((root) => !alreadyDistrusted.has(root.sha256))
    .map((root) => ({ ...identityOf(root), der: root.der }));

  const { entries: distrustEntries, undistrusts } = nextDistrusts(observed.manifest.distrusted, distrusts, distrustedSet, distrustOwners, desired.keepDistrusts === true);

  const removed = new Set(removals.map((removal) => removal.sha256));
  const manifest = {
    ...nextManifest(observed, imports, removed, new Set(released.map((root) => root.sha256)), desiredSet, owners),
    distrusted: distrustEntries,
  };
  const foreign = observed.roots.filter(
    (root) => (root.origin === "local" || root.origin === "policy") && !desiredSet.has(root.sha256) && !removed.has(root.sha256),
  );

  return {
    store: observed.store,
    imports,
    removals,
    distrusts,
    undistrusts,
    unchanged,
    foreign,
    manifest,
    basis: observed.manifestDigest,
    manifestChanged: JSON.stringify(manifest) !== JSON.stringify(observed.manifest),
    released,
  };
}

/** Who holds each managed root, seen from one declaration (which adopts entries from before owners existed). */
interface Ownership {
  owner: string;
  /** This declaration holds the root (directly, through an earlier id of itself, or by adoption). */
  holds(sha256: string): boolean;
  /** The other declarations that hold it. */
  others(sha256: string): string[];
}

function ownership(manifestEntries: readonly ManifestEntry[], desired: DesiredStore): Ownership {
  const owner = desired.owner ?? DEFAULT_OWNER;
  const mine = new Set([owner, ...(desired.previousOwners ?? [])]);
  const entries = new Map(manifestEntries.map((entry) => [entry.sha256, entry]));
  return {
    owner,
    holds: (sha256) => {
      const entry = entries.get(sha256);
      return entry !== undefined && (entry.owners === undefined || entry.owners.some((id) => mine.has(id)));
    },
    others: (sha256) => (entries.get(sha256)?.owners ?? []).filter((id) => !mine.has(id)),
  };
}

function removalReason(
  root: ObservedRoot,
  desired: Set<string>,
  distrusted: Set<string>,
  mode: StoreMode,
  owners: Ownership,
): PlannedRemoval["reason"] | undefined {
  if (root.origin === "system" || root.origin === "policy" || desired.has(root.sha256)) return undefined;
  if (distrusted.has(root.sha256)) return "distrusted";
  // Another declaration's root is never this one's to remove, whatever the mode.
  if (root.origin === "managed" && mode !== "additive" && owners.holds(root.sha256)) return "no longer desired";
  if (root.origin === "local" && mode === "purgeUnmanaged") return "not declared (purgeUnmanaged)";
  return undefined;
}

const entry = (root: CertificateIdentity | ManifestEntry): ManifestEntry => ({ sha256: root.sha256, sha1: root.sha1, subject: root.subject });

/** A manifest entry's owners: each id once, sorted, so the same holders always write the same bytes. */
const ownerList = (...ids: readonly string[]): string[] => [...new Set(ids)].sort();

/**
 * The manifest's distrust entries after the plan, with their holders, and the distrusts to lift. An entry is
 * this tool's own distrust: one the host already had (an administrator's) never gets an entry, so it is never
 * lifted. Entries from before owners, or left by a deleted declaration, have no owner: they stay until a
 * declaration that distrusts the root adopts them.
 */
function nextDistrusts(
  previous: readonly ManifestEntry[],
  distrusts: readonly PlannedRoot[],
  wanted: Set<string>,
  owners: Ownership,
  keep: boolean,
): { entries: ManifestEntry[]; undistrusts: ManifestEntry[] } {
  const entries = new Map<string, ManifestEntry>();
  const undistrusts: ManifestEntry[] = [];
  for (const held of previous) {
    const holdsNow = wanted.has(held.sha256);
    if (held.owners === undefined && !holdsNow) {
      entries.set(held.sha256, entry(held));
      continue;
    }
    const holders = ownerList(...owners.others(held.sha256), ...(holdsNow ? [owners.owner] : []));
    if (holders.length > 0) entries.set(held.sha256, { ...entry(held), owners: holders });
    else if (keep) entries.set(held.sha256, entry(held));
    else undistrusts.push(entry(held));
  }
  for (const root of distrusts) {
    entries.set(root.sha256, { ...entry(root), owners: ownerList(...(entries.get(root.sha256)?.owners ?? []), owners.owner) });
  }
  return { entries: [...entries.values()], undistrusts };
}

function nextManifest(
  observed: ObservedStore,
  imports: readonly PlannedRoot[],
  removed: Set<string>,
  released: Set<string>,
  desired: Set<string>,
  owners: Ownership,
): Omit<Manifest, "distrusted"> {
  // After the plan this declaration holds what it declares, and what it held and neither removed nor released
  // (additive mode keeps undeclared roots, and their holder with them); under its current id only.
  const holdsAfter = (sha256: string) => desired.has(sha256) || (owners.holds(sha256) && !released.has(sha256));
  const roots = new Map<string, ManifestEntry>();
  for (const root of observed.manifest.roots) {
    if (removed.has(root.sha256)) continue;
    // An entry from before owners stays as it is unless this declaration declares the root: adopting a root it
    // does not declare (a delete that leaves it) would pin it to an owner that is about to disappear.
    if (root.owners === undefined && !desired.has(root.sha256)) {
      roots.set(root.sha256, entry(root));
      continue;
    }
    const holders = ownerList(...owners.others(root.sha256), ...(holdsAfter(root.sha256) ? [owners.owner] : []));
    if (holders.length > 0) roots.set(root.sha256, { ...entry(root), owners: holders });
  }
  for (const root of imports) {
    roots.set(root.sha256, { ...entry(root), owners: ownerList(...(roots.get(root.sha256)?.owners ?? []), owners.owner) });
  }
  return { version: 2, roots: [...roots.values()] };
}

/** True when applying the plan changes the host's trust: imports, removals, distrusts or lifted distrusts. */
export function planChangesStore(storePlan: StorePlan): boolean {
  return storePlan.imports.length + storePlan.removals.length + storePlan.distrusts.length + storePlan.undistrusts.length > 0;
}
