import { parseCertificateIdentities } from "../certificates";
import { entriesFor } from "./manifest";
import type { CertificateIdentity, Manifest, ObservedRoot, RootOrigin, StoreName } from "./types";

/** The fields of a certificate an observation keeps. */
export function identityOf(certificate: CertificateIdentity): CertificateIdentity {
  const { sha1, sha256, subject, commonName, notAfter } = certificate;
  return { sha1, sha256, subject, commonName, notAfter };
}

/** The certificates a host file or section holds; unreadable content becomes a warning and is left alone. */
export function readHeldCertificates(content: Buffer | string, name: string, warnings: string[]): HeldCertificate[] {
  if (content.length === 0) return [];
  try {
    return parseCertificateIdentities(content, { name });
  } catch (error) {
    warnings.push(`${(error as Error).message} (left alone)`);
    return [];
  }
}

/** A certificate as a host holds it: its identity and its bytes. */
export type HeldCertificate = CertificateIdentity & { issuer: string; der: Buffer };

/** One place on the host that holds certificates: an anchor file, a physical store, the compiled bundle. */
export interface HeldCertificates {
  location: string;
  certificates: HeldCertificate[];
  /**
   * "effective" is the trust set itself (bundle, logical store); the others are its sources. "managed" marks a
   * place this tool writes (a file it names, Windows' `.Default`): what it holds is managed only while the
   * manifest lists it for the store, and an administrator's otherwise.
   */
  source: RootOrigin | "effective";
}

const ORIGIN_RANK: Record<RootOrigin, number> = { managed: 0, local: 1, policy: 2, system: 3 };

/**
 * Merge what each location holds into one entry per root. A root is managed only where this tool wrote it and
 * the manifest lists it for this store (`listed`): an administrator's file that happens to hold a managed root
 * stays local, so it is never removed with that root. When several sources hold a root the strongest owner wins
 * (system > policy > local > managed), so a root the OS or a policy also ships is never removable; a root only
 * in the effective set is system.
 */
export function mergeObservedRoots(held: readonly HeldCertificates[], listed: (sha256: string) => boolean): ObservedRoot[] {
  const merged = new Map<string, { root: ObservedRoot; origins: RootOrigin[] }>();
  for (const place of held) {
    for (const certificate of place.certificates) {
      let entry = merged.get(certificate.sha256);
      if (!entry) {
        entry = { root: { ...identityOf(certificate), issuer: certificate.issuer, der: certificate.der, origin: "system", trusted: false, locations: [] }, origins: [] };
        merged.set(certificate.sha256, entry);
      }
      if (place.source === "effective") {
        entry.root.trusted = true;
        continue;
      }
      if (!entry.root.locations.includes(place.location)) entry.root.locations.push(place.location);
      const origin = place.source === "managed" && !listed(certificate.sha256) ? "local" : place.source;
      if (origin === "managed") entry.root.ownLocations = [...new Set([...(entry.root.ownLocations ?? []), place.location])];
      entry.origins.push(origin);
    }
  }
  return [...merged.values()].map(({ root, origins }) => ({
    ...root,
    origin: origins.length === 0 ? "system" : origins.reduce((a, b) => (ORIGIN_RANK[b] > ORIGIN_RANK[a] ? b : a)),
  }));
}

/**
 * Whether the manifest lists a root this tool installed for `store` (its own entries, or ones from before stores
 * were recorded); a hold on a root an administrator's copy provides does not make that copy this tool's.
 */
export function listedFor(manifest: Manifest, store: StoreName): (sha256: string) => boolean {
  const listed = new Set(entriesFor(manifest.roots, store).filter((entry) => entry.installed !== false).map((entry) => entry.sha256));
  return (sha256) => listed.has(sha256);
}
