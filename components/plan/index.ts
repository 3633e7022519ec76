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

export interface DesiredStore {
  roots: readonly Certificate[];
  distrusted?: readonly Certificate[];
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

  const imports: PlannedRoot[] = [];
  const unchanged: CertificateIdentity[] = [];
  for (const root of uniqueCertificates(desired.roots)) {
    if (observedBySha.get(root.sha256)?.trusted) unchanged.push(identityOf(root));
    else imports.push({ ...identityOf(root), der: root.der });
  }

  const removals: PlannedRemoval[] = [];
  const filesHoldingWanted = new Set(
    observed.roots.filter((root) => desiredSet.has(root.sha256)).flatMap((root) => root.locations),
  );
  for (const root of observed.roots) {
    const reason = removalReason(root, desiredSet, distrustedSet, mode);
    if (!reason) continue;
    // A local file holding a wanted root too cannot be removed without losing that root.
    const files = root.locations.filter((file) => !filesHoldingWanted.has(file));
    if (files.length === 0 && !(root.origin === "managed" && root.trusted)) continue;
    removals.push({ ...identityOf(root), reason, files: root.origin === "managed" ? root.locations : files });
  }

  const alreadyDistrusted = new Set(observed.distrusted.map((root) => root.sha256));
  const distrusts: PlannedRoot[] = uniqueCertificates(distrustedWanted)
    .filter((root) => !alreadyDistrusted.has(root.sha256))
    .map((root) => ({ ...identityOf(root), der: root.der }));

  const removed = new Set(removals.map((removal) => removal.sha256));
  const foreign = observed.roots.filter(
    (root) => (root.origin === "local" || root.origin === "policy") && !desiredSet.has(root.sha256) && !removed.has(root.sha256),
  );

  return {
    store: observed.store,
    imports,
    removals,
    distrusts,
    unchanged,
    foreign,
    manifest: nextManifest(observed, imports, removed, distrusts),
    basis: observed.manifestDigest,
  };
}

function removalReason(
  root: ObservedRoot,
  desired: Set<string>,
  distrusted: Set<string>,
  mode: StoreMode,
): PlannedRemoval["reason"] | undefined {
  if (root.origin === "system" || root.origin === "policy" || desired.has(root.sha256)) return undefined;
  if (distrusted.has(root.sha256)) return "distrusted";
  if (root.origin === "managed" && mode !== "additive") return "no longer desired";
  if (root.origin === "local" && mode === "purgeUnmanaged") return "not declared (purgeUnmanaged)";
  return undefined;
}

function nextManifest(
  observed: ObservedStore,
  imports: readonly PlannedRoot[],
  removed: Set<string>,
  distrusts: readonly PlannedRoot[],
): Manifest {
  const entry = (root: CertificateIdentity): ManifestEntry => ({ sha256: root.sha256, sha1: root.sha1, subject: root.subject });
  const kept = observed.manifest.roots.filter((root) => !removed.has(root.sha256));
  return {
    version: 1,
    roots: uniqueCertificates([...kept, ...imports.map(entry)]),
    distrusted: uniqueCertificates([...observed.manifest.distrusted, ...distrusts.map(entry)]),
  };
}

/** True when applying the plan changes the host's trust: imports, removals or distrusts. */
export function planChangesStore(storePlan: StorePlan): boolean {
  return storePlan.imports.length + storePlan.removals.length + storePlan.distrusts.length > 0;
}
