import { createHash } from "node:crypto";
import { JKS_MAGIC, readJks, writeJks } from "./jks";
import { readPkcs12, writePkcs12 } from "./pkcs12";
import { KeystoreError, type KeystoreEntry, type NewTrustedEntry } from "./types";

export { KeystoreError, type KeystoreEntry, type NewTrustedEntry };

export const KEYSTORE_TYPES = ["JKS", "PKCS12"] as const;
export type KeystoreType = (typeof KEYSTORE_TYPES)[number];

const JCEKS_MAGIC = 0xcececece;
const ASN1_SEQUENCE = 0x30;

/** A keystore's format from its first bytes, as the JDK's keystore.type.compat detection does. */
export function keystoreTypeOf(bytes: Buffer, name: string): KeystoreType {
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === JKS_MAGIC) return "JKS";
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === JCEKS_MAGIC) {
    throw new KeystoreError(`${name}: a JCEKS keystore; convert it to PKCS12 (keytool -importkeystore -deststoretype PKCS12) and point the server at the new file`);
  }
  if (bytes.length > 0 && bytes[0] === ASN1_SEQUENCE) return "PKCS12";
  throw new KeystoreError(`${name}: neither a JKS nor a PKCS12 keystore (${bytes.length} bytes)`);
}

export interface Keystore {
  type: KeystoreType;
  entries: KeystoreEntry[];
}

/** A keystore's entries, its type detected and its integrity checked with the password. */
export function readKeystore(bytes: Buffer, password: string, name: string): Keystore {
  const type = keystoreTypeOf(bytes, name);
  return { type, entries: type === "JKS" ? readJks(bytes, password, name) : readPkcs12(bytes, password, name) };
}

/**
 * The same keystore without the removed aliases and with the added trusted entries, in its own format and
 * sealed with its own password: every other entry (keys included) is kept byte for byte.
 */
export function rewriteKeystore(keystore: Keystore, change: { remove: readonly string[]; add: readonly NewTrustedEntry[] }, password: string, name: string, now: Date): Buffer {
  const removed = new Set(change.remove.map((alias) => alias.toLowerCase()));
  const kept = keystore.entries.filter((entry) => !(entry.kind === "trusted" && removed.has(entry.alias.toLowerCase())));
  const taken = new Set(kept.map((entry) => entry.alias.toLowerCase()));
  const clash = change.add.find((entry) => taken.has(entry.alias.toLowerCase()));
  if (clash) throw new KeystoreError(`${name}: alias "${clash.alias}" is already taken by an entry trusted-roots does not remove; nothing was changed`);
  return keystore.type === "JKS" ? writeJks(kept, change.add, password, now) : writePkcs12(kept, change.add, password, name);
}

const ALIAS_PREFIX = "trusted-roots";

/**
 * The alias trusted-roots gives a root: a readable prefix of its common name and its whole SHA-256, so two roots
 * with one subject never collide and a renewed root gets a new alias. Lower-case: JKS aliases are.
 */
export function aliasFor(certificate: Buffer, commonName: string): string {
  const readable = commonName.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 32);
  const sha256 = createHash("sha256").update(certificate).digest("hex");
  return [ALIAS_PREFIX, readable, sha256].filter(Boolean).join("-");
}

/** Whether an alias is one aliasFor gave this certificate: the prefix, and its SHA-256 at the end. */
export function isOwnAlias(alias: string, sha256: string): boolean {
  const lower = alias.toLowerCase();
  return lower.startsWith(`${ALIAS_PREFIX}-`) && lower.endsWith(`-${sha256.toLowerCase()}`);
}
