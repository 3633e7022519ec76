/** One entry of a Java keystore as read: a trusted certificate (what a trust store holds) or a key, kept as it is. */
export interface KeystoreEntry {
  alias: string;
  kind: "trusted" | "key";
  /** The DER of a trusted certificate entry. */
  certificate?: Buffer;
  /** The entry as the format stores it, written back byte for byte when the entry is kept. */
  encoded: Buffer;
  /** A PKCS#12 plain key bag found inside encrypted content: rewriting would expose it, so a rewrite is refused. */
  exposedIfRewritten?: boolean;
}

/** A trusted certificate entry to add. */
export interface NewTrustedEntry {
  alias: string;
  certificate: Buffer;
}

/** A keystore that cannot be read or rewritten as asked; the message names the store and what to do. */
export class KeystoreError extends Error {
  override name = "KeystoreError";
}
