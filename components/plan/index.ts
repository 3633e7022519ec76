import { describeCertificate, issuedBy, sameSubjectAndKey, uniqueCertificates, type Certificate } from "../certificates";
import { entriesFor, MANIFEST_VERSION, renderManifest } from "../platforms/manifest";
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
  // Fail closed: without the manifest this tool's roots look like an administrator's (see parseManifest).
  if (observed.manifestProblem) throw new PlanError(observed.manifestProblem);
  const distrustedWanted = desired.distrusted ?? [];
  const distrustedSet = new Set(distrustedWanted.map((root) => root.sha256));
  refuseDesiredAndDistrusted(desired.roots, distrustedSet);
  // A root entry from before owners is held by someone unknown (it may be another stack's); a distrust entry
  // without owners is a deleted declaration's, kept until a declaration that distrusts the root adopts it.
  const owners = storeOwnership(observed, desired);
  const distrustOwners = ownership(observed.manifest.distrusted, desired, []);
  const chain = chainTrust(desired, observed);

  const { imports, unchanged, withheld } = plannedImports(desired, observed, chain);
  const desiredSet = new Set(desired.roots.filter((root) => chain.keeps(root)).map((root) => root.sha256));
  // `removed`: this store's own removals, without the chain certificates they orphan (nextManifest tells them apart).
  const { removals, released, removed, neighbourRemovals } = plannedRemovals(observed, mode, { desiredSet, distrustedSet, owners, chain });

  const alreadyDistrusted = new Set(observed.distrusted.map((root) => root.sha256));
  // Where a root the OS does not ship can only be kept off the host, a distrusted root that is nowhere on it is
  // already as distrusted as it can be: held in the manifest, nothing to do (a copy that appears is removed).
  const present = new Set(observed.roots.filter((root) => root.trusted || root.locations.length > 0).map((root) => root.sha256));
  const satisfied = (sha256: string) => alreadyDistrusted.has(sha256) || (observed.distrustBy === "absence" && !present.has(sha256));
  const distrusts: PlannedRoot[] = uniqueCertificates(distrustedWanted)
    .filter((root) => !satisfied(root.sha256))
    .map((root) => ({ ...identityOf(root), der: root.der }));
  const keptOff = uniqueCertificates(distrustedWanted).filter((root) => !alreadyDistrusted.has(root.sha256) && satisfied(root.sha256));

  const { entries: distrustEntries, undistrusts } = nextDistrusts(
    observed.manifest.distrusted,
    [...distrusts, ...keptOff.map(identityOf)],
    distrustedSet,
    distrustOwners,
    desired.keepDistrusts === true,
  );

  const manifest = {
    ...nextManifest(observed, mode, present, imports, removed, new Set(released.map((root) => root.sha256)), desiredSet, owners, new Set(neighbourRemovals.map((removal) => removal.sha256))),
    distrusted: distrustEntries,
  };
  const foreign = observed.roots.filter(
    (root) => (root.origin === "local" || root.origin === "policy") && !desiredSet.has(root.sha256) && !removals.some((removal) => removal.sha256 === root.sha256 && removal.leaves),
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
    manifestChanged: renderManifest(manifest) !== renderManifest(observed.manifest),
    released,
    withheld,
    ...(observed.keystore ? { keystore: observed.keystore } : {}),
  };
}

function refuseDesiredAndDistrusted(roots: readonly Certificate[], distrustedSet: ReadonlySet<string>): void {
  const conflicts = roots.filter((root) => distrustedSet.has(root.sha256));
  if (conflicts.length > 0) {
    throw new PlanError(
      `${conflicts.map(describeCertificate).join(", ")} ${conflicts.length === 1 ? "is" : "are"} both desired and ` +
        "distrusted; remove each from one of the two lists",
    );
  }
}

/** Each declared root: imported, already trusted, or withheld (its chain would make it trusted on its own). */
function plannedImports(desired: DesiredStore, observed: ObservedStore, chain: ChainTrust): Pick<StorePlan, "imports" | "unchanged" | "withheld"> {
  const imports: PlannedRoot[] = [];
  const unchanged: CertificateIdentity[] = [];
  const withheld: CertificateIdentity[] = [];
  const observedBySha = new Map(observed.roots.map((root) => [root.sha256, root]));
  for (const root of uniqueCertificates(desired.roots)) {
    const held = observedBySha.get(root.sha256);
    if (!chain.keeps(root)) withheld.push(identityOf(root));
    // Trusted only where the OS may drop it on its own (Windows .AuthRoot): imported so that it stays.
    else if (held?.trusted && !held.osMayDrop) unchanged.push(identityOf(root));
    else imports.push({ ...identityOf(root), der: root.der });
  }
  return { imports, unchanged, withheld };
}

interface RemovalContext {
  desiredSet: Set<string>;
  distrustedSet: Set<string>;
  owners: Ownership;
  chain: ChainTrust;
}

/** What leaves the store (with the files that go), which holds are only released, and chain certificates orphaned by it. */
function plannedRemovals(
  observed: ObservedStore,
  mode: StoreMode,
  { desiredSet, distrustedSet, owners, chain }: RemovalContext,
): { removals: PlannedRemoval[]; released: CertificateIdentity[]; removed: Set<string>; neighbourRemovals: PlannedRemoval[] } {
  // Files this store may never delete: they hold something declared, something another declaration or store
  // holds, or a certificate of the host's other store (roots and intermediates sharing one directory).
  // Windows' locations are physical stores, where each certificate is removed alone: only files are shared.
  const protectedFiles = new Set(
    [
      ...observed.roots.filter((root) => desiredSet.has(root.sha256) || root.origin !== "local" || owners.others(root.sha256).length > 0).flatMap((root) => root.locations),
      ...observed.roots.flatMap((root) => root.ownLocations ?? []),
      ...(observed.neighbours ?? []).flatMap((root) => root.locations),
    ].filter(isFile),
  );
  const onlyDistrusted = onlyDistrustedFiles(observed, distrustedSet);
  const removals: PlannedRemoval[] = [];
  const released: CertificateIdentity[] = [];
  for (const root of observed.roots) {
    const reason = removalReason(root, desiredSet, distrustedSet, mode, owners, chain);
    if (!reason) {
      // An OS, Microsoft or policy root this declaration installed and no longer declares: its hold goes, and so
      // does its own copy where the OS's or policy's stays beside it (a shipped file); where its copy is the only
      // real one (Windows' .Default of a Microsoft root), the copy stays, never this tool's to remove.
      if (mode !== "additive" && !desiredSet.has(root.sha256) && (root.origin === "system" || root.origin === "policy") && owners.holds(root.sha256)) {
        const own = root.ownLocations ?? [];
        const elsewhere = root.locations.some((location) => !own.includes(location) && (isFile(location) || location.startsWith(".")));
        if (own.length > 0 && elsewhere && owners.others(root.sha256).length === 0) removals.push({ ...identityOf(root), reason: "no longer desired", files: own, leaves: false });
        else released.push(identityOf(root));
      }
      continue;
    }
    if (reason === "no longer desired" && owners.others(root.sha256).length > 0) {
      released.push(identityOf(root));
      continue;
    }
    const files = removableFiles(root, reason, protectedFiles, onlyDistrusted, observed.distrustBy);
    if (files === undefined) continue;
    // The root leaves the store unless something that is not this tool's (an administrator's file) keeps it.
    removals.push({ ...identityOf(root), reason, files, leaves: files.length === root.locations.length });
  }
  const removed = new Set(removals.map((removal) => removal.sha256));
  // Only a root that leaves orphans its intermediates: one an administrator's file also holds stays trusted
  // (counterexample seed 1279012302: deleting a declaration took a CA store's intermediate along).
  const leaving = new Set(removals.filter((removal) => removal.leaves).map((removal) => removal.sha256));
  const neighbourRemovals = chain.orphanedNeighbours(new Set([...leaving, ...distrustedSet]));
  removals.push(...neighbourRemovals);

  const purged = removals.filter((removal) => removal.reason === "not declared (purgeUnmanaged)");
  if (purged.length > 0 && observed.purgeUnsafe) {
    throw new PlanError(`purgeUnmanaged would remove ${purged.length} undeclared certificate(s) from ${observed.store}, but ${observed.purgeUnsafe}`);
  }
  return { removals, released, removed, neighbourRemovals };
}

/** Who holds each managed root, seen from one declaration (which adopts entries from before owners existed). */
interface Ownership {
  owner: string;
  mine: ReadonlySet<string>;
  /** This declaration holds the root (directly, or through an earlier id of itself). */
  holds(sha256: string): boolean;
  /** The other declarations that hold it; an entry from before owners counts as held by someone unknown. */
  others(sha256: string): string[];
}

/** An entry written before owners were recorded: held by a declaration nobody can name. */
const UNKNOWN_HOLDER = "(recorded before owners)";

function ownership(manifestEntries: readonly ManifestEntry[], desired: Pick<DesiredStore, "owner" | "previousOwners">, unrecorded: readonly string[]): Ownership {
  const owner = desired.owner ?? DEFAULT_OWNER;
  const mine = new Set([owner, ...(desired.previousOwners ?? [])]);
  const holders = new Map<string, string[]>();
  for (const entry of manifestEntries) holders.set(entry.sha256, [...(holders.get(entry.sha256) ?? []), ...(entry.owners ?? unrecorded)]);
  return {
    owner,
    mine,
    holds: (sha256) => (holders.get(sha256) ?? []).some((id) => mine.has(id)),
    others: (sha256) => (holders.get(sha256) ?? []).filter((id) => !mine.has(id)),
  };
}

/** Who holds each root of the observed store, seen from `desired`'s owner: what plan removes and what it keeps. */
export function storeOwnership(observed: ObservedStore, desired: Pick<DesiredStore, "owner" | "previousOwners">): Ownership {
  return ownership(entriesFor(observed.manifest.roots, observed.store), desired, [UNKNOWN_HOLDER]);
}

function removalReason(
  root: ObservedRoot,
  desired: Set<string>,
  distrusted: Set<string>,
  mode: StoreMode,
  owners: Ownership,
  chain: ChainTrust,
): PlannedRemoval["reason"] | undefined {
  if (root.origin === "system" || root.origin === "policy" || desired.has(root.sha256)) return undefined;
  if (distrusted.has(root.sha256)) return "distrusted";
  // An intermediate of ours whose issuer is no longer trusted leaves in every mode (it would be an anchor).
  const ours = (root.ownLocations ?? []).length > 0 && owners.holds(root.sha256);
  if (ours && chain.applies && !chain.keeps(root)) return "issuer no longer trusted";
  // Another declaration's root is never this one's to remove, whatever the mode.
  if (ours && mode !== "additive") return "no longer desired";
  // A local root another declaration holds (its copy is an administrator's) is declared: not this purge's.
  if (root.origin === "local" && mode === "purgeUnmanaged" && owners.others(root.sha256).length === 0) return "not declared (purgeUnmanaged)";
  return undefined;
}

/**
 * The files to delete so the root leaves, or undefined to leave it: a root is removed whole or not at all (a
 * partial removal leaves it trusted). This tool's own files go; an administrator's file goes only under
 * purgeUnmanaged when nothing in it is protected, or when everything in it is explicitly distrusted. A distrusted
 * root that an administrator's file trusts beside other certificates is a conflict to resolve by hand.
 */
function removableFiles(
  root: ObservedRoot,
  reason: PlannedRemoval["reason"],
  protectedFiles: Set<string>,
  onlyDistrusted: Set<string>,
  distrustBy: ObservedStore["distrustBy"],
): string[] | undefined {
  const own = root.ownLocations ?? [];
  // Only this tool's own copies: an administrator's file that also holds the root stays, and so does the root.
  if (reason === "no longer desired" || reason === "issuer no longer trusted") return own;
  if (reason === "not declared (purgeUnmanaged)") {
    return root.locations.length > 0 && root.locations.every((file) => !protectedFiles.has(file)) ? root.locations : undefined;
  }
  // Distrusted where a block outranks a copy (p11-kit's blocklist, Windows' Disallowed): an administrator's file
  // stays, blocked; Windows' copy in a physical store (not a file) goes, as it always did.
  if (distrustBy !== "absence") {
    const stores = root.locations.filter((location) => !isFile(location));
    return stores.length > 0 ? stores : undefined;
  }
  const mixed = root.locations.filter((file) => !onlyDistrusted.has(file) && !own.includes(file));
  if (mixed.length > 0) {
    throw new PlanError(
      `${describeCertificate(root)} is distrusted, but ${mixed.join(", ")} (an administrator's file${mixed.length === 1 ? "" : "s"}) ` +
        "trusts it beside other certificates, and on this platform a root is distrusted only by keeping it off the host; " +
        "take it out of that file by hand (this tool removes only its own files, or a file that holds nothing but distrusted roots), then apply again",
    );
  }
  return root.locations;
}

/** Linux locations are anchor files (absolute paths); Windows' are physical stores (`.Default`). */
const isFile = (location: string): boolean => location.startsWith("/");

/** Local files every certificate of which is explicitly distrusted: an explicit distrust covers all they hold. */
function onlyDistrustedFiles(observed: ObservedStore, distrusted: Set<string>): Set<string> {
  const holding = new Map<string, boolean>();
  for (const root of [...observed.roots, ...(observed.neighbours ?? [])]) {
    for (const file of root.locations) holding.set(file, (holding.get(file) ?? true) && distrusted.has(root.sha256));
  }
  return new Set([...holding].filter(([, all]) => all).map(([file]) => file));
}

/**
 * Where roots and intermediates share one bundle (Debian, Alpine), Go, Java and GnuTLS clients take every
 * certificate in it as an anchor: an intermediate may stay only while a root that issued it stays trusted.
 * - in the CA store, a declared intermediate whose issuer the host does not trust is withheld (not installed),
 *   and one of ours already there leaves ("issuer no longer trusted");
 * - in the Root store, removing or distrusting a root takes our intermediates under it along, in the same apply.
 */
interface ChainTrust {
  applies: boolean;
  keeps(certificate: Pick<ObservedRoot, "sha256" | "subject"> & { der?: Buffer }): boolean;
  orphanedNeighbours(leaving: Set<string>): PlannedRemoval[];
}

function chainTrust(desired: DesiredStore, observed: ObservedStore): ChainTrust {
  const neighbours = observed.neighbours;
  if (neighbours === undefined) return { applies: false, keeps: () => true, orphanedNeighbours: () => [] };
  const anchoredBy = (certificate: { der?: Buffer; subject: string }, issuers: readonly ObservedRoot[]) =>
    certificate.der !== undefined &&
    issuers.some((issuer) => issuer.der !== undefined && (issuedBy(certificate as { der: Buffer }, issuer as { der: Buffer }) || sameSubjectAndKey(certificate as Pick<Certificate, "subject" | "der">, issuer as Pick<Certificate, "subject" | "der">)));
  if (observed.store === "CA") {
    const trustedRoots = neighbours.filter((root) => root.trusted);
    const distrusted = new Set((desired.distrusted ?? []).map((root) => root.sha256));
    // A chain may run root -> intermediate -> intermediate: the declared ones anchor each other, from a root.
    const kept = new Set<string>();
    const candidates = uniqueCertificates(desired.roots).filter((root) => !distrusted.has(root.sha256));
    for (let grew = true; grew; ) {
      grew = false;
      for (const certificate of candidates) {
        if (kept.has(certificate.sha256)) continue;
        const issuers = [...trustedRoots, ...candidates.filter((other) => kept.has(other.sha256)).map((other) => ({ ...other, origin: "managed" as const, trusted: true, locations: [] }))];
        if (anchoredBy(certificate, issuers)) {
          kept.add(certificate.sha256);
          grew = true;
        }
      }
    }
    const declared = new Set(desired.roots.map((root) => root.sha256));
    return {
      applies: true,
      keeps: (certificate) => (declared.has(certificate.sha256) ? kept.has(certificate.sha256) : anchoredBy(certificate, trustedRoots)),
      orphanedNeighbours: () => [],
    };
  }
  return {
    applies: false,
    keeps: () => true,
    orphanedNeighbours: (leaving) => {
      const staying = observed.roots.filter((root) => root.trusted && !leaving.has(root.sha256));
      const goingRoots = observed.roots.filter((root) => leaving.has(root.sha256));
      return neighbours
        .filter((intermediate) => intermediate.origin === "managed" && anchoredBy(intermediate, goingRoots) && !anchoredBy(intermediate, staying))
        .map((intermediate) => ({ ...identityOf(intermediate), reason: "issuer no longer trusted" as const, files: intermediate.locations, leaves: true }));
    },
  };
}

/** An entry's identity alone: owners and store are set by whoever writes it. */
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
  distrusts: readonly CertificateIdentity[],
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
  mode: StoreMode,
  /** Roots the host has for this store: trusted, or at least somewhere in it. */
  present: Set<string>,
  imports: readonly PlannedRoot[],
  removed: Set<string>,
  released: Set<string>,
  desired: Set<string>,
  owners: Ownership,
  neighboursRemoved: Set<string>,
): Omit<Manifest, "distrusted"> {
  const store = observed.store;
  // After the plan this declaration holds what it declares and, in additive mode (which keeps undeclared roots,
  // and their holder with them), what it held, still finds on the host, and neither removed nor released. In the
  // other modes a hold ends with the declaration, even where this tool's file is gone and an administrator's copy
  // keeps the root (counterexample seed 1, an OS update dropping the tool's files: the hold outlived its owner's delete).
  const holdsAfter = (sha256: string) => desired.has(sha256) || (mode === "additive" && owners.holds(sha256) && !released.has(sha256) && present.has(sha256));
  const kept: ManifestEntry[] = [];
  const holders = new Map<string, { root: ManifestEntry; ids: Set<string>; installed: boolean }>();
  const claim = (root: CertificateIdentity | ManifestEntry, ids: readonly string[], installed = (root as ManifestEntry).installed !== false) => {
    const held = holders.get(root.sha256) ?? { root: entry(root), ids: new Set<string>(), installed };
    held.installed ||= installed;
    for (const id of ids) held.ids.add(id);
    holders.set(root.sha256, held);
  };
  const local = new Set(observed.roots.filter((root) => root.origin === "local" && root.trusted).map((root) => root.sha256));
  for (const root of observed.manifest.roots) {
    if (neighboursRemoved.has(root.sha256)) continue;
    if (root.store !== undefined && root.store !== store) {
      kept.push(root);
      continue;
    }
    if (removed.has(root.sha256)) continue;
    if (root.owners === undefined) {
      // From before owners: adopted (for this store) only by a declaration that declares it; otherwise it stays
      // as it is, held by someone unknown, because adopting what it does not declare would let it be removed.
      if (desired.has(root.sha256)) claim(root, [owners.owner]);
      else kept.push(root);
      continue;
    }
    const others = root.owners.filter((id) => !owners.mine.has(id));
    if (root.store === undefined) {
      // From before stores: this declaration's hold moves to an entry of its own store; the others stay shared.
      // An administrator's copy stays one (counterexample seed 1284352173: the mark was lost, and the hold with it outlived its owner's delete).
      if (others.length > 0) kept.push({ ...entry(root), ...(root.installed === false ? { installed: false as const } : {}), owners: ownerList(...others) });
    } else claim(root, others);
    // A hold on an administrator's copy lasts only while the root is declared.
    if (root.installed === false ? desired.has(root.sha256) : holdsAfter(root.sha256)) claim(root, [owners.owner]);
  }
  for (const root of imports) claim(root, [owners.owner], true);
  // A declared root an administrator's copy already provides is held too, so that another declaration's
  // purgeUnmanaged does not take it away; the copy stays the administrator's.
  for (const root of observed.roots) if (desired.has(root.sha256) && local.has(root.sha256) && !holders.has(root.sha256)) claim(root, [owners.owner], false);
  for (const { root, ids, installed } of holders.values()) if (ids.size > 0) kept.push({ ...root, store, ...(installed ? {} : { installed: false as const }), owners: ownerList(...ids) });
  return { version: MANIFEST_VERSION, roots: kept };
}

export { planChangesStore } from "../platforms/types";
