/** One entry as `keytool -list -v` shows it. */
export interface KeytoolEntry {
  alias: string;
  /** "trustedCertEntry", "PrivateKeyEntry", ... */
  type: string;
  /** The SHA-256 of the entry's (first) certificate: upper-case hex, no colons. */
  sha256?: string;
}

/** The entries of `keytool -list -v` output: the JDK's own view of a keystore, which the tests hold ours against. */
export function keytoolListing(listing: string): KeytoolEntry[] {
  return listing.split(/\n\*{10,}\n/).flatMap((block) => {
    const alias = /^Alias name: (.*)$/m.exec(block)?.[1];
    const type = /^Entry type: (.*)$/m.exec(block)?.[1];
    const sha256 = /SHA256: ([0-9A-F:]+)/.exec(block)?.[1]?.replace(/:/g, "");
    return alias && type ? [{ alias, type, ...(sha256 ? { sha256 } : {}) }] : [];
  });
}

/** The trusted entries only: alias -> SHA-256. */
export function trustedEntries(listing: string): Map<string, string> {
  return new Map(keytoolListing(listing).flatMap((entry) => (entry.type === "trustedCertEntry" && entry.sha256 ? [[entry.alias, entry.sha256] as const] : [])));
}
