import { randomBytes } from "node:crypto";
import type * as Forge from "node-forge";
import { nodeForge } from "../certificates/forge";
import { KeystoreError, type KeystoreEntry, type NewTrustedEntry } from "./types";

// PKCS#12 as the JDK reads and writes it (sun.security.pkcs12.PKCS12KeyStore). A certificate bag is a trusted
// entry only when it carries Oracle's trusted-key-usage attribute (the JDK ignores other lone certificates); key
// bags, secret bags and a key's chain are carried over byte for byte. node-forge supplies the ASN.1 reader, the
// PBE ciphers and the PKCS#12 key derivation; its high-level parser drops unknown attributes and re-encodes
// certificates, so the structure is walked here.

const OID = {
  data: "1.2.840.113549.1.7.1",
  encryptedData: "1.2.840.113549.1.7.6",
  keyBag: "1.2.840.113549.1.12.10.1.1",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  friendlyName: "1.2.840.113549.1.9.20",
  trustedKeyUsage: "2.16.840.1.113894.746875.1.1",
  anyExtendedKeyUsage: "2.5.29.37.0",
  pbmac1: "1.2.840.113549.1.5.14",
} as const;

const MAC_DIGESTS: Record<string, () => Forge.md.MessageDigest> = {
  "1.3.14.3.2.26": () => nodeForge().md.sha1.create(),
  "2.16.840.1.101.3.4.2.1": () => nodeForge().md.sha256.create(),
  "2.16.840.1.101.3.4.2.2": () => nodeForge().md.sha384.create(),
  "2.16.840.1.101.3.4.2.3": () => nodeForge().md.sha512.create(),
};
const SHA256 = "2.16.840.1.101.3.4.2.1";
/** The JDK's defaults since 11.0.12 / 17: HmacPBESHA256 with 10,000 iterations. */
const MAC_ITERATIONS = 10_000;
const MAC_KEY_ID = 3;

type Node = Forge.asn1.Asn1;
// node-forge's typings omit pki.pbe, which its runtime has (the PKCS#12 parser uses it).
const pbeCipher = (oid: string, parameters: Node | undefined, password: string) =>
  (nodeForge().pki as unknown as { pbe: { getCipher(oid: string, parameters: Node | undefined, password: string): Forge.cipher.BlockCipher } }).pbe.getCipher(oid, parameters, password);
const binary = (bytes: Buffer) => bytes.toString("binary");
const bufferOf = (text: string) => Buffer.from(text, "binary");

function parse(bytes: Buffer | string, name: string, what: string): Node {
  try {
    return nodeForge().asn1.fromDer(nodeForge().util.createBuffer(typeof bytes === "string" ? bytes : binary(bytes)), false);
  } catch {
    throw new KeystoreError(`${name}: its ${what} is not valid ASN.1; the PKCS#12 keystore is damaged`);
  }
}

function children(node: Node | undefined): Node[] {
  return node && Array.isArray(node.value) ? node.value : [];
}

/** An OCTET STRING's bytes, primitive or (BER) constructed. */
function octets(node: Node | undefined): string {
  if (!node) return "";
  return typeof node.value === "string" ? node.value : node.value.map(octets).join("");
}

function oidOf(node: Node | undefined): string {
  return node && typeof node.value === "string" ? nodeForge().asn1.derToOid(node.value) : "";
}

function integerOf(node: Node | undefined, fallback: number): number {
  return node && typeof node.value === "string" ? nodeForge().util.createBuffer(node.value).getInt(node.value.length * 8) : fallback;
}

/** Checks the MAC over the authenticated safe: a wrong password fails here, before anything is decrypted. */
function verifyMac(macData: Node | undefined, authSafe: string, password: string, name: string): void {
  if (!macData) throw new KeystoreError(`${name}: the PKCS#12 keystore has no integrity MAC, so its password cannot be checked; recreate it with keytool and a password`);
  const [digestInfo, salt, iterations] = children(macData);
  const [algorithm, digest] = children(digestInfo);
  const digestOid = oidOf(children(algorithm)[0]);
  if (digestOid === OID.pbmac1) throw new KeystoreError(`${name}: its MAC is PBMAC1, which trusted-roots does not read yet; convert the store with keytool -importkeystore on a JDK older than 24`);
  const digestFactory = MAC_DIGESTS[digestOid];
  if (!digestFactory) throw new KeystoreError(`${name}: its MAC digest ${digestOid} is not SHA-1 or SHA-2`);
  const md = digestFactory();
  const key = nodeForge().pkcs12.generateKey(password, nodeForge().util.createBuffer(octets(salt)), MAC_KEY_ID, integerOf(iterations, 1), md.digestLength, md);
  const hmac = nodeForge().hmac.create();
  hmac.start(digestFactory(), key.getBytes());
  hmac.update(authSafe);
  if (hmac.digest().getBytes() !== octets(digest)) {
    throw new KeystoreError(`${name}: the keystore's integrity check failed: the password is wrong (or the file was altered); give the store's password, the one its server's JVM is configured with`);
  }
}

/** A ContentInfo's SafeContents, decrypted when it is EncryptedData. */
function safeContentsOf(contentInfo: Node, password: string, name: string): { bags: Node[]; encrypted: boolean } {
  const [type, explicit] = children(contentInfo);
  const content = children(explicit)[0];
  const contentType = oidOf(type);
  if (contentType === OID.data) return { bags: children(parse(octets(content), name, "safe contents")), encrypted: false };
  if (contentType !== OID.encryptedData) throw new KeystoreError(`${name}: a PKCS#12 content of type ${contentType} (public-key protected?) is not one the JDK writes`);
  const [, encryptedContentInfo] = children(content);
  const [, algorithm, encrypted] = children(encryptedContentInfo);
  const [cipherOid, parameters] = children(algorithm);
  let cipher: Forge.cipher.BlockCipher;
  try {
    cipher = pbeCipher(oidOf(cipherOid), parameters, password);
  } catch (error) {
    throw new KeystoreError(`${name}: its certificates are encrypted with an algorithm trusted-roots cannot read (${(error as Error).message})`);
  }
  cipher.update(nodeForge().util.createBuffer(octets(encrypted)));
  if (!cipher.finish()) throw new KeystoreError(`${name}: its encrypted certificates do not decrypt with the password that verified its MAC; the keystore is damaged`);
  return { bags: children(parse(cipher.output.getBytes(), name, "encrypted safe contents")), encrypted: true };
}

function attributesOf(bag: Node): Map<string, Node[]> {
  return new Map(children(children(bag)[2]).map((attribute) => [oidOf(children(attribute)[0]), children(children(attribute)[1])]));
}

/** A friendlyName: node-forge's reader already decodes a BMPString into text. */
function bmpString(node: Node | undefined): string | undefined {
  return node && typeof node.value === "string" ? node.value : undefined;
}

/** The entries of a PKCS#12 keystore whose MAC the password verifies; a wrong password or damage is a KeystoreError. */
export function readPkcs12(bytes: Buffer, password: string, name: string): KeystoreEntry[] {
  const [version, authSafeInfo, macData] = children(parse(bytes, name, "outer structure"));
  if (integerOf(version, 0) !== 3) throw new KeystoreError(`${name}: not a PKCS#12 version 3 keystore`);
  const [contentType, explicit] = children(authSafeInfo);
  if (oidOf(contentType) !== OID.data) throw new KeystoreError(`${name}: a PKCS#12 keystore signed with a public key is not a JDK keystore`);
  const authSafe = octets(children(explicit)[0]);
  verifyMac(macData, authSafe, password, name);
  return children(parse(authSafe, name, "authenticated safe")).flatMap((contentInfo) => {
    const { bags, encrypted } = safeContentsOf(contentInfo, password, name);
    return bags.map((bag): KeystoreEntry => {
      const attributes = attributesOf(bag);
      const alias = bmpString(attributes.get(OID.friendlyName)?.[0]) ?? "";
      const encoded = bufferOf(nodeForge().asn1.toDer(bag).getBytes());
      const bagType = oidOf(children(bag)[0]);
      if (bagType === OID.keyBag && encrypted) {
        // Written back it would sit in plain content: the rewrite refuses rather than expose the key.
        return { alias, kind: "key", encoded, exposedIfRewritten: true };
      }
      if (bagType !== OID.certBag || !attributes.has(OID.trustedKeyUsage)) return { alias, kind: "key", encoded };
      const certBag = children(children(bag)[1])[0];
      const [certificateType, certificateValue] = children(certBag);
      if (oidOf(certificateType) !== OID.x509Certificate) return { alias, kind: "key", encoded };
      return { alias, kind: "trusted", certificate: bufferOf(octets(children(certificateValue)[0])), encoded };
    });
  });
}

function lengthBytes(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const digits: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256);
  return Buffer.from([0x80 | digits.length, ...digits]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OCTET_STRING = 0x04;
const EXPLICIT_0 = 0xa0;
const oid = (dotted: string) => tlv(0x06, bufferOf(nodeForge().asn1.oidToDer(dotted).getBytes()));
const integer = (value: number) => tlv(0x02, bufferOf(nodeForge().asn1.integerToDer(value).getBytes()));
const dataContentInfo = (content: Buffer) => tlv(SEQUENCE, oid(OID.data), tlv(EXPLICIT_0, tlv(OCTET_STRING, content)));

/** DER orders the members of a SET by their encodings. */
function derSet(members: Buffer[]): Buffer {
  return tlv(SET, ...[...members].sort(Buffer.compare));
}

function trustedCertificateBag({ alias, certificate }: NewTrustedEntry): Buffer {
  const utf16 = Buffer.alloc(alias.length * 2);
  for (let index = 0; index < alias.length; index += 1) utf16.writeUInt16BE(alias.charCodeAt(index), index * 2);
  const attribute = (type: string, value: Buffer) => tlv(SEQUENCE, oid(type), derSet([value]));
  return tlv(
    SEQUENCE,
    oid(OID.certBag),
    tlv(EXPLICIT_0, tlv(SEQUENCE, oid(OID.x509Certificate), tlv(EXPLICIT_0, tlv(OCTET_STRING, certificate)))),
    derSet([attribute(OID.friendlyName, tlv(0x1e, utf16)), attribute(OID.trustedKeyUsage, oid(OID.anyExtendedKeyUsage))]),
  );
}

/**
 * A PKCS#12 keystore of the kept entries (byte for byte) and the new trusted ones: keys in one content, every
 * certificate (public data) in another, sealed with an HmacPBESHA256 MAC as the JDK writes it.
 */
export function writePkcs12(kept: readonly KeystoreEntry[], added: readonly NewTrustedEntry[], password: string, name: string): Buffer {
  const exposed = kept.find((entry) => entry.exposedIfRewritten);
  if (exposed) {
    throw new KeystoreError(`${name}: entry "${exposed.alias}" is an unencrypted private key inside encrypted content; trusted-roots will not rewrite it into plain content. Keep keys out of the truststore (keytool -importkeystore the trusted entries into a new one)`);
  }
  const isCertificate = (encoded: Buffer) => oidOf(children(parse(encoded, name, "kept entry"))[0]) === OID.certBag;
  const keptKeys = kept.filter((entry) => !isCertificate(entry.encoded)).map((entry) => entry.encoded);
  const certificates = [...kept.filter((entry) => isCertificate(entry.encoded)).map((entry) => entry.encoded), ...added.map(trustedCertificateBag)];
  const contents = [...(keptKeys.length > 0 ? [dataContentInfo(tlv(SEQUENCE, ...keptKeys))] : []), dataContentInfo(tlv(SEQUENCE, ...certificates))];
  const authSafe = tlv(SEQUENCE, ...contents);
  const salt = randomBytes(20);
  const md = nodeForge().md.sha256.create();
  const key = nodeForge().pkcs12.generateKey(password, nodeForge().util.createBuffer(binary(salt)), MAC_KEY_ID, MAC_ITERATIONS, md.digestLength, md);
  const hmac = nodeForge().hmac.create();
  hmac.start(nodeForge().md.sha256.create(), key.getBytes());
  hmac.update(binary(authSafe));
  const mac = bufferOf(hmac.digest().getBytes());
  const macData = tlv(SEQUENCE, tlv(SEQUENCE, tlv(SEQUENCE, oid(SHA256), Buffer.from([0x05, 0x00])), tlv(OCTET_STRING, mac)), tlv(OCTET_STRING, salt), integer(MAC_ITERATIONS));
  return tlv(SEQUENCE, integer(3), dataContentInfo(authSafe), macData);
}
