import type { CertificateIdentity } from "../certificates";
import type { KeystoreEntry, KeystoreType } from "../keystores";

export const PLATFORM_NAMES = ["debian", "rhel", "suse", "alpine", "arch", "windows"] as const;
export type PlatformName = (typeof PLATFORM_NAMES)[number];

/**
 * Windows logical stores; Linux platforms have Root and CA, and "Java": a Java keystore (platforms/java.ts). ClientAuthIssuer ("Client Authentication
 * Issuers") is where SChannel looks for trusted issuers when ClientAuthTrustMode is 1 or 2.
 */
export const STORE_NAMES = ["Root", "CA", "Disallowed", "ClientAuthIssuer", "Java"] as const;
export type StoreName = (typeof STORE_NAMES)[number];

/**
 * Who put a root where it is:
 * - managed: this tool (listed in the host-side manifest),
 * - local:   a local administrator (anchors dir, Windows LocalMachine `.Default`),
 * - system:  the OS vendor (Debian's ca-certificates bundle, Windows `.AuthRoot`),
 * - policy:  Group Policy or the Active Directory enterprise store (Windows `.GroupPolicy`, `.Enterprise`).
 * Only managed roots (and local ones with purgeUnmanaged) are ever removed.
 */
export type RootOrigin = "managed" | "local" | "system" | "policy";

export type { CertificateIdentity };

export interface ObservedRoot extends CertificateIdentity {
  origin: RootOrigin;
  /** The issuer's name: a root's own subject; an intermediate's CA. */
  issuer?: string;
  /** In the effective trust set (the compiled bundle, the logical store) right now. */
  trusted: boolean;
  /** Where the host keeps it: anchor file paths or Windows physical stores. */
  locations: string[];
  /** The locations this tool wrote and the manifest lists for the store: the only ones it ever deletes for a hold. */
  ownLocations?: string[];
  /** The certificate's bytes as the host holds them (what a refresh reports back as the live PEM). */
  der?: Buffer;
  /**
   * Trusted now only because the OS put it there on its own and may take it away again (Windows: only in
   * `.AuthRoot`, automatic root update's cache). A declared root in this state is imported where it stays.
   */
  osMayDrop?: boolean;
}

/** Something on the host that makes client-certificate authentication fail whatever the store holds. */
export interface StoreHazard {
  code: "non-self-signed-in-root" | "client-auth-trust-mode" | "send-trusted-issuer-list" | "intermediate-without-trusted-root";
  detail: string;
}

export interface ManifestEntry {
  sha256: string;
  sha1: string;
  subject: string;
  /**
   * The store the entry belongs to: holds are per (store, fingerprint), so a root held in Root and in
   * ClientAuthIssuer is two entries. Absent in manifests written before version 3: such an entry counts for
   * every store of the host until a declaration that holds it rewrites it for its own store.
   */
  store?: StoreName;
  /**
   * `false`: a hold on a root this tool did not install (an administrator's file or store entry already trusted
   * it when the declaration applied). It keeps other declarations' purgeUnmanaged away from that root, lasts only
   * while the root is declared, and never makes the administrator's copy this tool's. Absent: installed here.
   */
  installed?: false;
  /**
   * The declarations that hold this root (a stable id per server and store, e.g. `project/stack/web01-root`).
   * A root leaves the host only when no owner holds it any more. Absent in manifests written before owners
   * existed: the next declaration that applies adopts the entry.
   */
  owners?: string[];
}

/** What this tool installed on the host and who declared it, kept on the host (see DESIGN.md decision 5). */
export interface Manifest {
  /** 3 when written by this version; 1 and 2 are read (and rewritten as 3 by the next apply). */
  version: 1 | 2 | 3;
  roots: ManifestEntry[];
  distrusted: ManifestEntry[];
}

export interface ObservedStore {
  platform: PlatformName;
  store: StoreName;
  bootId: string;
  pendingReboot: boolean;
  /** Every root the host knows of for this store, trusted or only present as an anchor. */
  roots: ObservedRoot[];
  /**
   * Families whose roots and intermediates share one anchors directory and bundle (Debian, Alpine): what the
   * host's other store holds there (the Root store sees the CA store's intermediates here, and the CA store the
   * roots). This store never removes their files, and an intermediate leaves with the trust of its issuer: in
   * that bundle Go, Java and GnuTLS clients take an intermediate as a trust anchor of its own.
   */
  neighbours?: ObservedRoot[];
  /**
   * How this family distrusts a root it does not ship: "block" (a blocklist file, Windows Disallowed) or
   * "absence" (Debian, Alpine: only shipped roots can be deselected; any other root is distrusted by keeping it off
   * the host, and a copy that appears is removed).
   */
  distrustBy?: "block" | "absence";
  /** Roots explicitly distrusted (blocklist, deselected in ca-certificates.conf, Windows Disallowed). */
  distrusted: ObservedRoot[];
  manifest: Manifest;
  /**
   * Why the host's manifest could not be read (damaged, or written by a newer version), with the file, its
   * backup and the fix. The store is then observed with an empty manifest for reporting, and plan refuses.
   */
  manifestProblem?: string;
  /** SHA-256 (lower-case hex) of the manifest file as read, or "absent": what an apply checks under its lock. */
  manifestDigest: string;
  /** Things the host holds that could not be read (a garbage anchor file); reported, never touched. */
  warnings: string[];
  /**
   * Why purgeUnmanaged cannot tell the operating system's certificates from local ones in this store, when it
   * cannot (Windows: no Microsoft trust list on the host; CA and ClientAuthIssuer, where nothing lists what
   * Windows ships). A plan that would purge then refuses with this reason; `exact` and `additive` are unaffected.
   */
  purgeUnsafe?: string;
  /** Client-authentication hazards (Windows Root: IIS and SChannel settings); reported by scan. */
  hazards?: StoreHazard[];
  /** A Java store: the keystore as read, which its apply rewrites (every entry it does not remove kept as it is). */
  keystore?: ObservedKeystore;
}

/** A Java keystore as observed: where it is, its format, the digest of its bytes and its entries. */
export interface ObservedKeystore {
  /** The file as found (a JDK's cacerts may be a link to the OS's). */
  path: string;
  /** The file written: the link's target. */
  realPath: string;
  type: KeystoreType;
  /** SHA-256 of the bytes read, or "absent" (an application truststore not made yet): what the apply checks. */
  digest: string;
  entries: KeystoreEntry[];
}

/** A root to install, with the DER that travels to the host. */
export interface PlannedRoot extends CertificateIdentity {
  der: Buffer;
}

export type RemovalReason = "no longer desired" | "not declared (purgeUnmanaged)" | "distrusted" | "issuer no longer trusted";

export interface PlannedRemoval extends CertificateIdentity {
  reason: RemovalReason;
  /** Anchor files that hold it (Linux); empty when only the compiled bundle still lists it. */
  files: string[];
  /** The root leaves the store; false when only this tool's copy goes and an administrator's copy keeps it. */
  leaves: boolean;
}

export interface StorePlan {
  store: StoreName;
  imports: PlannedRoot[];
  removals: PlannedRemoval[];
  distrusts: PlannedRoot[];
  /**
   * Distrusts this tool made (in the manifest) that no declaration holds any more: the blocklist file, the
   * ca-certificates.conf "!" or the Disallowed entry it added goes, and only that.
   */
  undistrusts: ManifestEntry[];
  unchanged: CertificateIdentity[];
  /** Roots nobody declared that stay (informational). */
  foreign: ObservedRoot[];
  /** The host-side manifest after this plan is applied. */
  manifest: Manifest;
  /** The manifest digest the plan was made against; the apply refuses to run if the host's differs. */
  basis: string;
  /** The manifest must be rewritten (owners claimed or released) even when no root is added or removed. */
  manifestChanged: boolean;
  /** Roots this declaration no longer holds but other owners still do: released, kept on the host. */
  released: CertificateIdentity[];
  /**
   * Declared intermediates not installed because no root that issued them is trusted on the host (where the
   * bundle makes every certificate an anchor): they follow once the root is trusted again.
   */
  withheld: CertificateIdentity[];
  /** A Java store's keystore as observed: the apply rewrites it. */
  keystore?: ObservedKeystore;
}

/** True when applying the plan changes the host's trust: imports, removals, distrusts or lifted distrusts. */
export function planChangesStore(storePlan: StorePlan): boolean {
  return storePlan.imports.length + storePlan.removals.length + storePlan.distrusts.length + storePlan.undistrusts.length > 0;
}

/** A command for one SSH exec and what to feed it on stdin. */
export interface RemoteScript {
  command: string;
  stdin: string;
  /** POSIX scripts may be wrapped in `sudo -n`; PowerShell runs with the session's own token. */
  elevation: "sudo" | "none";
  /**
   * Why the command failed, read from its output; undefined when it worked. Without it a non-zero exit code
   * is the failure (POSIX). Windows scripts report through `@@` records, never through exit codes.
   */
  check?: (output: CommandOutput) => string | undefined;
}

/** What one command printed and how it ended. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ApplyOutcome {
  /**
   * The step that failed ("lock", "conflict", "import", "remove", "distrust", "manifest", "refresh"), when one
   * did. "conflict": the store changed between observation and apply (another run); nothing was changed.
   */
  failedStep?: string;
  failureDetail?: string;
  rolledBack: boolean;
  /** The store as the same session saw it after applying (or rolling back). */
  observed: ObservedStore;
}

/**
 * Which boot a host is in. `id` changes with every boot (Linux: the kernel's random boot_id). Where the id is a
 * boot time (Windows' LastBootUpTime, which drifts by fractions of a second on VMs without any reboot),
 * `hostClock` is the host's own clock when it was read, so a later boot can be told by time, not by inequality.
 */
export interface BootReading {
  id: string;
  hostClock?: string;
}

/** Everything one trust-store family needs: scripts to run and parsers for what they print. Pure. */
export interface Platform {
  readonly name: PlatformName;
  readonly stores: readonly StoreName[];
  observeScript(store: StoreName): RemoteScript;
  parseObservation(stdout: string, store: StoreName): ObservedStore;
  applyScript(plan: StorePlan): RemoteScript;
  parseApply(stdout: string, store: StoreName): ApplyOutcome;
  bootIdScript(): RemoteScript;
  parseBootId(stdout: string): BootReading;
  /** Whether `after` was read in a later boot than `before`, which was read just before a reboot was asked for. */
  rebootedSince(before: BootReading, after: BootReading): boolean;
  rebootScript(delaySeconds: number): RemoteScript;
}
