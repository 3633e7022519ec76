import { createHash } from "node:crypto";
import { KeystoreError, type KeystoreEntry, type NewTrustedEntry } from "./types";

// The JDK's "JKS" format (sun.security.provider.JavaKeyStore): a magic, a version, the entries, and a SHA-1 over
// the password, a fixed phrase and everything before it. Trusted-certificate entries are all a trust store holds;
// a key entry is carried over byte for byte (its key is protected on its own, not by the store's digest).

export const JKS_MAGIC = 0xfeedfeed;
const VERSION = 2;
const TRUSTED_CERTIFICATE_TAG = 2;
const PRIVATE_KEY_TAG = 1;
const DIGEST_LENGTH = 20;

/** The store's integrity digest: each password character as two big-endian bytes, the JDK's phrase, the body. */
function integrityDigest(password: string, body: Buffer): Buffer {
  const passwordBytes = Buffer.alloc(password.length * 2);
  for (let index = 0; index < password.length; index += 1) passwordBytes.writeUInt16BE(password.charCodeAt(index), index * 2);
  return createHash("sha1").update(passwordBytes).update("Mighty Aphrodite", "utf8").update(body).digest();
}

/** Reads the JDK's DataInput fields in order; every read past the end is the store's damage, named. */
class Reader {
  private offset = 0;
  constructor(
    private readonly bytes: Buffer,
    private readonly name: string,
  ) {}
  get position(): number {
    return this.offset;
  }
  private take(length: number): Buffer {
    if (length < 0 || this.offset + length > this.bytes.length) throw new KeystoreError(`${this.name}: the JKS keystore is truncated or damaged (read past its end at byte ${this.offset})`);
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }
  int(): number {
    return this.take(4).readUInt32BE(0);
  }
  long(): bigint {
    return this.take(8).readBigInt64BE(0);
  }
  bytesOf(length: number): Buffer {
    return this.take(length);
  }
  /**
   * Java's modified UTF-8. Decoded as UTF-8: the two differ only for NUL and characters beyond the BMP, and an
   * alias read here only names an entry in messages; entries are kept by their bytes, never re-encoded.
   */
  utf(): string {
    return this.take(this.take(2).readUInt16BE(0)).toString("utf8");
  }
}

/** The entries of a JKS keystore whose digest the password verifies; a wrong password or damage is a KeystoreError. */
export function readJks(bytes: Buffer, password: string, name: string): KeystoreEntry[] {
  if (bytes.length < 12 + DIGEST_LENGTH) throw new KeystoreError(`${name}: too short to be a JKS keystore (${bytes.length} bytes)`);
  const body = bytes.subarray(0, bytes.length - DIGEST_LENGTH);
  if (!integrityDigest(password, body).equals(bytes.subarray(bytes.length - DIGEST_LENGTH))) {
    throw new KeystoreError(`${name}: the keystore's integrity check failed: the password is wrong (or the file was altered); give the store's password, the one its server's JVM is configured with`);
  }
  const reader = new Reader(body, name);
  if (reader.int() !== JKS_MAGIC) throw new KeystoreError(`${name}: not a JKS keystore`);
  const version = reader.int();
  if (version !== VERSION) throw new KeystoreError(`${name}: JKS version ${version}; the JDK has written version ${VERSION} since 1.2 (rewrite it with keytool -importkeystore)`);
  const certificate = () => {
    reader.utf(); // the certificate type, X.509 in practice
    return reader.bytesOf(reader.int());
  };
  const count = reader.int();
  const entries: KeystoreEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    const start = reader.position;
    const tag = reader.int();
    const alias = reader.utf();
    reader.long(); // created at
    if (tag === TRUSTED_CERTIFICATE_TAG) {
      const der = Buffer.from(certificate());
      entries.push({ alias, kind: "trusted", certificate: der, encoded: Buffer.from(body.subarray(start, reader.position)) });
    } else if (tag === PRIVATE_KEY_TAG) {
      reader.bytesOf(reader.int());
      const chainLength = reader.int();
      for (let link = 0; link < chainLength; link += 1) certificate();
      entries.push({ alias, kind: "key", encoded: Buffer.from(body.subarray(start, reader.position)) });
    } else {
      throw new KeystoreError(`${name}: entry ${index + 1} has tag ${tag}, which JKS does not define (a JCEKS store? convert it to PKCS12 with keytool -importkeystore)`);
    }
  }
  if (reader.position !== body.length) throw new KeystoreError(`${name}: ${body.length - reader.position} bytes follow the last JKS entry; the keystore is damaged`);
  return entries;
}

function utf(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8");
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}

function int(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value, 0);
  return bytes;
}

function trustedEntry({ alias, certificate }: NewTrustedEntry, createdAt: Date): Buffer {
  const created = Buffer.alloc(8);
  created.writeBigInt64BE(BigInt(createdAt.getTime()), 0);
  // JKS aliases are case-insensitive and the JDK stores them lower-case.
  return Buffer.concat([int(TRUSTED_CERTIFICATE_TAG), utf(alias.toLowerCase()), created, utf("X.509"), int(certificate.length), certificate]);
}

/** A JKS keystore of the kept entries (byte for byte) and the new trusted ones, sealed with the password. */
export function writeJks(kept: readonly KeystoreEntry[], added: readonly NewTrustedEntry[], password: string, createdAt: Date): Buffer {
  const body = Buffer.concat([int(JKS_MAGIC), int(VERSION), int(kept.length + added.length), ...kept.map((entry) => entry.encoded), ...added.map((entry) => trustedEntry(entry, createdAt))]);
  return Buffer.concat([body, integrityDigest(password, body)]);
}
