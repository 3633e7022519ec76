import type { Certificate } from "../certificates";
import { DEFAULT_OWNER, plan, type StoreMode } from "../plan";
import type { CertificateIdentity, ObservedStore, StoreHazard } from "../platforms";

export const FINDING_KINDS = ["missing", "unexpected", "distrusted", "foreign", "pending-reboot", "hazard", "expiring", "expired", "unreachable"] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];
/** Findings that fail a scan unless --fail-on says otherwise. */
export const DEFAULT_FAIL_ON: readonly FindingKind[] = ["missing", "unexpected", "distrusted", "unreachable"];

export interface RootRef {
  subject: string;
  sha1: string;
  sha256: string;
  /** Where, when not the host's system store: "Java keystore <path>". */
  store?: string;
}

/** One server's scan result (the JSON report's `hosts[]` entries; see docs/scan-json.md). */
export interface HostFinding {
  name: string;
  host: string;
  platform: string;
  status: "in-sync" | "drift" | "unreachable";
  /** Why the host could not be scanned: "host key mismatch: ...", "unreachable: ...", "auth failed: ...". */
  reason?: string;
  bootId?: string;
  pendingReboot: boolean;
  /** Declared roots the host does not trust. */
  missing: RootRef[];
  /** Roots this tool installed that are no longer declared. */
  unexpected: RootRef[];
  /** Declared-distrusted roots the host still trusts. */
  distrustedPresent: RootRef[];
  /** Roots someone else installed (informational). */
  foreign: (RootRef & { origin: string })[];
  /** Settings or certificates that break client-certificate authentication (Windows/IIS: 403.16, SChannel). */
  hazards: StoreHazard[];
  /** Managed and foreign roots the host trusts that expire within the warning window (--expiring-days). */
  expiring: (RootRef & { notAfter: string; origin: string })[];
  /** Managed and foreign roots the host trusts that have expired. */
  expired: (RootRef & { notAfter: string; origin: string })[];
  durationMs: number;
}

const ref = ({ subject, sha1, sha256 }: CertificateIdentity): RootRef => ({ subject, sha1, sha256 });

export interface DesiredHost {
  name: string;
  host: string;
  platform: string;
  roots: readonly Certificate[];
  distrusted: readonly Certificate[];
  /**
   * The server's intermediates and cross-signed certificates: on Linux they sit beside the roots, and are neither
   * unexpected nor foreign there. The scan checks roots; `pulumi preview --refresh` checks these too.
   */
  chain?: readonly Certificate[];
  mode: StoreMode;
  /** The resource suffixes of the store the observation is of (default the root and CA stores: both write the host's manifest). */
  storeSuffixes?: readonly string[];
  /**
   * `<project>/<stack>/` when the scan knows the stack its servers belong to: owner ids then match exactly.
   * Without it any project's and stack's `.../<server>-root` counts as this server's.
   */
  ownerPrefix?: string;
}

/** When a scan looks: now, and how far ahead an expiry counts as a finding. */
export interface ExpiryWindow {
  now: Date;
  /** Default 30. */
  expiringDays: number;
}

export const DEFAULT_EXPIRING_DAYS = 30;

/**
 * Whether a managed root's holders include this server's declaration: its store resource (`<project>/<stack>/
 * <server>-root`, whatever the project and stack), the library default, or nobody recorded (manifests from
 * before owners). A root only other declarations hold (another stack, another server on the same host) is not
 * this server's drift.
 */
function heldByThisServer(owners: readonly string[], desired: DesiredHost): boolean {
  const stores = (desired.storeSuffixes ?? ["root", "ca"]).map((suffix) => `${desired.name}-${suffix}`);
  // A holder id carries its resource instance (`<owner>#<8 hex>`); the declaration is the owner.
  const mine = (holder: string, owner = holder.replace(/#[0-9a-f]{8}$/, "")) =>
    owner === DEFAULT_OWNER ||
    stores.some((store) => (desired.ownerPrefix ? owner === `${desired.ownerPrefix}${store}` : owner.endsWith(`/${store}`)));
  return owners.length === 0 || owners.some((holder) => mine(holder));
}

/** Compare what a host holds with what it should. Pure: the same plan an apply would make. */
export function evaluateHost(
  desired: DesiredHost,
  observed: ObservedStore,
  durationMs: number,
  window: ExpiryWindow = { now: new Date(), expiringDays: DEFAULT_EXPIRING_DAYS },
): HostFinding {
  const storePlan = plan({ roots: desired.roots, distrusted: desired.distrusted }, observed, desired.mode);
  const distrusted = new Set(desired.distrusted.map((root) => root.sha256));
  const chain = new Set((desired.chain ?? []).map((certificate) => certificate.sha256));
  const undeclaredManaged = observed.roots.filter(
    (root) => root.origin === "managed" && !desired.roots.some((wanted) => wanted.sha256 === root.sha256) && !distrusted.has(root.sha256) && !chain.has(root.sha256),
  );
  const owners = new Map(observed.manifest.roots.map((entry) => [entry.sha256, entry.owners ?? []]));
  const ownersOf = (sha256: string) => owners.get(sha256) ?? [];
  const finding: HostFinding = {
    name: desired.name,
    host: desired.host,
    platform: desired.platform,
    status: "in-sync",
    bootId: observed.bootId,
    pendingReboot: observed.pendingReboot,
    missing: storePlan.imports.map(ref),
    // A managed root this server's declaration holds but no longer declares is unexpected in any mode; only
    // exact/purge modes would remove it.
    unexpected: undeclaredManaged.filter((root) => heldByThisServer(ownersOf(root.sha256), desired)).map(ref),
    distrustedPresent: observed.roots.filter((root) => root.trusted && distrusted.has(root.sha256)).map(ref),
    foreign: [
      ...storePlan.foreign.map((root) => ({ ...ref(root), origin: root.origin })),
      ...undeclaredManaged
        .filter((root) => !heldByThisServer(ownersOf(root.sha256), desired))
        .map((root) => ({ ...ref(root), origin: `managed by ${ownersOf(root.sha256).join(", ")}` })),
    ],
    hazards: observed.hazards ?? [],
    ...expiryOf(observed, window),
    durationMs,
  };
  if (finding.missing.length + finding.unexpected.length + finding.distrustedPresent.length > 0) finding.status = "drift";
  return finding;
}

/**
 * A Java keystore's drift, added to its host's finding: what is missing there and what this server no longer
 * declares, each naming the keystore. Its roots' expiry is the Root store's finding (the same roots).
 */
export function withJavaStore(finding: HostFinding, desired: DesiredHost, observed: ObservedStore, keystore: string, suffix: string): HostFinding {
  const java = evaluateHost({ ...desired, distrusted: [], chain: [], storeSuffixes: [suffix] }, observed, 0);
  const at = <Root extends RootRef>(root: Root): Root => ({ ...root, store: `Java keystore ${keystore}` });
  const merged = {
    ...finding,
    missing: [...finding.missing, ...java.missing.map(at)],
    unexpected: [...finding.unexpected, ...java.unexpected.map(at)],
    foreign: [...finding.foreign, ...java.foreign.map(at)],
  };
  return { ...merged, status: merged.status === "in-sync" && merged.missing.length + merged.unexpected.length > 0 ? "drift" : merged.status };
}

export function unreachableHost(desired: Pick<DesiredHost, "name" | "host" | "platform">, reason: string, durationMs: number): HostFinding {
  return {
    ...desired,
    status: "unreachable",
    reason,
    pendingReboot: false,
    missing: [],
    unexpected: [],
    distrustedPresent: [],
    foreign: [],
    hazards: [],
    expiring: [],
    expired: [],
    durationMs,
  };
}

/**
 * Roots that expired or will within the window, among those the host trusts and someone chose: this tool's
 * (managed) and a local admin's or a policy's (foreign). The OS's own are its vendor's business (Windows keeps
 * expired Microsoft roots on purpose, to verify old signatures).
 */
function expiryOf(observed: ObservedStore, window: ExpiryWindow): Pick<HostFinding, "expiring" | "expired"> {
  const chosen = observed.roots.filter((root) => root.trusted && root.origin !== "system");
  const horizon = window.now.getTime() + window.expiringDays * 86_400_000;
  const entry = (root: (typeof chosen)[number]) => ({ ...ref(root), notAfter: root.notAfter, origin: root.origin });
  return {
    expired: chosen.filter((root) => Date.parse(root.notAfter) <= window.now.getTime()).map(entry),
    expiring: chosen.filter((root) => Date.parse(root.notAfter) > window.now.getTime() && Date.parse(root.notAfter) <= horizon).map(entry),
  };
}

/** The finding kinds a host shows. */
export function kindsOf(finding: HostFinding): FindingKind[] {
  const kinds: FindingKind[] = [];
  if (finding.status === "unreachable") kinds.push("unreachable");
  if (finding.missing.length) kinds.push("missing");
  if (finding.unexpected.length) kinds.push("unexpected");
  if (finding.distrustedPresent.length) kinds.push("distrusted");
  if (finding.foreign.length) kinds.push("foreign");
  if (finding.pendingReboot) kinds.push("pending-reboot");
  if (finding.hazards.length) kinds.push("hazard");
  if (finding.expiring.length) kinds.push("expiring");
  if (finding.expired.length) kinds.push("expired");
  return kinds;
}

/** 0 in sync, 2 a failing drift finding, 3 some hosts unreachable (and no failing drift). */
export function exitCodeFor(findings: readonly HostFinding[], failOn: readonly FindingKind[] = DEFAULT_FAIL_ON): 0 | 2 | 3 {
  const failing = new Set(findings.flatMap(kindsOf).filter((kind) => failOn.includes(kind)));
  if ([...failing].some((kind) => kind !== "unreachable")) return 2;
  return failing.has("unreachable") ? 3 : 0;
}

export function parseFailOn(text: string): FindingKind[] {
  const kinds = text.split(",").map((kind) => kind.trim()).filter(Boolean);
  const unknown = kinds.filter((kind) => !(FINDING_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0) throw new Error(`--fail-on: unknown finding ${unknown.map((kind) => JSON.stringify(kind)).join(", ")}; choose from ${FINDING_KINDS.join(", ")}`);
  return kinds as FindingKind[];
}
