import { createHash, X509Certificate } from "node:crypto";
import { certificatesInPkcs7, firstDerElementLength, signatureAlgorithmOf } from "./asn1";
import { CertificateInputError } from "./errors";
import { printable } from "./printable";
import type { Certificate, CertificateIdentity, CertificateKind } from "./types";

const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;
const EC_CURVE_BITS: Record<string, number> = {
  prime256v1: 256,
  "P-256": 256,
  secp256k1: 256,
  secp384r1: 384,
  "P-384": 384,
  secp521r1: 521,
  "P-521": 521,
};

/** Larger inputs are refused before any parsing: a whole OS bundle is ~200 KB. */
export const MAX_INPUT_BYTES = 32 * 1024 * 1024;

export interface ParseOptions {
  /** How errors name this input: a file path, a config key. */
  name?: string;
}

/**
 * Every certificate in `input`: one or many PEM blocks (LF/CRLF, BOM, the text `openssl pkcs12` prints
 * around blocks), DER, PKCS#7 in PEM or DER (including the Microsoft CA's base64 `certnew.p7b` that is
 * labelled CERTIFICATE), or bare base64 of any of those. Throws CertificateInputError naming the input.
 */
export function parseCertificates(input: Buffer | string, options: ParseOptions = {}): Certificate[] {
  const { ders, fail } = extractDers(input, options);
  return ders.map((der, index) => describe(der, ders.length > 1 ? `certificate ${index + 1}` : "certificate", fail));
}

/**
 * Only what identifies each certificate (fingerprints, names, expiry), for reading whole stores: it skips
 * the signature check and ASN.1 walk, which cost three quarters of a full parse of a 150-root bundle.
 */
export function parseCertificateIdentities(input: Buffer | string, options: ParseOptions = {}): HeldIdentity[] {
  const digest = createHash("sha256").update(input).digest("base64");
  const known = inputCache.get(digest);
  if (known) return [...known];
  const identities = identitiesOf(input, options);
  if (inputCache.size >= INPUT_CACHE_LIMIT) inputCache.delete(inputCache.keys().next().value!);
  inputCache.set(digest, identities);
  return [...identities];
}

type HeldIdentity = Readonly<CertificateIdentity & { issuer: string; der: Buffer }>;

// A fleet's hosts mostly hold the same OS bundle: the same bytes are split into certificates once per process, and
// every host's observation shares those (frozen) records and DER buffers instead of holding its own copy.
const INPUT_CACHE_LIMIT = 256;
const inputCache = new Map<string, readonly HeldIdentity[]>();

function identitiesOf(input: Buffer | string, options: ParseOptions): HeldIdentity[] {
  const { ders, fail } = extractDers(input, options);
  return ders.map((der, index) => {
    const key = der.toString("base64");
    let identity = identityCache.get(key);
    if (!identity) {
      identity = identify(readX509(der, ders.length > 1 ? `certificate ${index + 1}` : "certificate", fail));
      if (identityCache.size >= IDENTITY_CACHE_LIMIT) identityCache.delete(identityCache.keys().next().value!);
      identityCache.set(key, identity);
    }
    return Object.freeze({ ...identity, der });
  });
}

// A fleet's hosts mostly hold the same OS bundle: each distinct certificate is read once per process.
const IDENTITY_CACHE_LIMIT = 20_000;
const identityCache = new Map<string, CertificateIdentity & { issuer: string }>();

function extractDers(input: Buffer | string, options: ParseOptions): { ders: Buffer[]; fail: (reason: string) => never } {
  const name = options.name ?? "certificate input";
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const fail = (reason: string): never => {
    throw new CertificateInputError(name, reason);
  };
  if (bytes.length === 0) fail("is empty; expected PEM, DER or PKCS#7 (.p7b) certificate data");
  if (bytes.length > MAX_INPUT_BYTES) {
    fail(`is ${(bytes.length / 1024 / 1024).toFixed(1)} MB; certificate bundles are at most a few MB, so this is not one (limit ${MAX_INPUT_BYTES / 1024 / 1024} MB)`);
  }
  const ders = bytes.includes("-----BEGIN") ? dersFromPem(bytes.toString("utf8"), fail) : dersFromBinary(bytes, fail);
  if (ders.length === 0) fail("holds no certificate");
  return { ders, fail };
}

function dersFromBinary(bytes: Buffer, fail: (reason: string) => never): Buffer[] {
  if (bytes[0] === 0x30) return dersFromAsn1(bytes, () => "the data", fail);
  const text = bytes.toString("latin1").replace(/^\uFEFF|^\u00EF\u00BB\u00BF/, "").replace(/\s+/g, "");
  if (text.length > 0 && text.length % 4 === 0 && BASE64_BODY.test(text)) {
    const decoded = Buffer.from(text, "base64");
    if (decoded[0] === 0x30) return dersFromAsn1(decoded, () => "the base64 data", fail);
  }
  return fail(
    "is not a certificate: no '-----BEGIN CERTIFICATE-----' block, and the data is not DER (which starts with " +
      "an ASN.1 SEQUENCE, byte 0x30) nor base64 of it",
  );
}

// A PKCS#7 ContentInfo opens with an OID (tag 0x06) inside its outer SEQUENCE; a certificate with another
// SEQUENCE (its tbsCertificate). Telling them apart here avoids parsing every certificate twice.
function looksLikePkcs7(der: Buffer): boolean {
  const headerLength = der[1] < 0x80 ? 2 : 2 + (der[1] & 0x7f);
  return der[0] === 0x30 && der[headerLength] === 0x06;
}

function dersFromAsn1(der: Buffer, where: () => string, fail: (reason: string) => never): Buffer[] {
  // Read as a certificate later, once (readX509 names what is wrong with it).
  if (!looksLikePkcs7(der)) return [der];
  const fromPkcs7 = certificatesInPkcs7(der);
  if (fromPkcs7 === undefined) fail(`${where()} is DER but neither an X.509 certificate nor PKCS#7 (.p7b) data`);
  if (fromPkcs7!.length === 0) fail(`${where()} is a PKCS#7 file that holds no certificates`);
  return fromPkcs7!;
}

// Sticky: each is tried only where a marker starts, so a hostile input costs one pass, never one per BEGIN.
const BEGIN_LINE = /-----BEGIN ([A-Z0-9 #]+)-----\r?\n?/y;
const END_LINE = /-----END ([A-Z0-9 #]+)-----/y;

/**
 * The PEM blocks of `text` in one left-to-right pass (indexOf from where the last block ended): a file of BEGIN
 * lines without END lines is refused at the first one, in time linear in its size.
 */
function dersFromPem(text: string, fail: (reason: string) => never): Buffer[] {
  const ders: Buffer[] = [];
  let blockNumber = 0;
  const unterminated = (offset: number) => fail(`a '-----BEGIN' at line ${lineOf(text, offset)} has no matching END line (truncated?)`);
  for (let start = text.indexOf("-----BEGIN"); start >= 0; ) {
    blockNumber++;
    BEGIN_LINE.lastIndex = start;
    const begin = BEGIN_LINE.exec(text);
    if (!begin) unterminated(start);
    const label = begin![1];
    const bodyStart = start + begin![0].length;
    const end = text.indexOf("-----END", bodyStart);
    if (end < 0) unterminated(start);
    // Only a failure needs the line number, and counting lines for every block of a large bundle is not free.
    const where = () => `block ${blockNumber} (${label}) at line ${lineOf(text, start)}`;
    const nextBegin = text.indexOf("-----BEGIN", bodyStart);
    if (nextBegin >= 0 && nextBegin < end) fail(`${where()} has no END line before the next block (truncated?)`);
    END_LINE.lastIndex = end;
    const endLine = END_LINE.exec(text);
    if (!endLine) fail(`${where()} has a damaged END line`);
    const endLabel = endLine![1];
    if (label.includes("PRIVATE KEY") || endLabel.includes("PRIVATE KEY")) {
      fail(`${where()} is a private key; a trust bundle must hold certificates only: remove that block`);
    }
    if (label !== endLabel) fail(`${where()} ends with '-----END ${endLabel}-----'; the file is damaged`);
    const der = decodeBase64Body(text.slice(bodyStart, end), where, fail);
    if (label === "CERTIFICATE" || label === "X509 CERTIFICATE") ders.push(...dersFromAsn1(der, where, fail));
    else if (label === "TRUSTED CERTIFICATE") ders.push(trustedCertificateDer(der, where, fail));
    else if (label === "PKCS7" || label === "PKCS #7 SIGNED DATA" || label === "CMS") {
      ders.push(...dersFromAsn1(der, where, fail));
    } else fail(`${where()} is not a certificate; only CERTIFICATE and PKCS7 blocks are accepted`);
    start = nextBegin;
  }
  return ders;
}

function decodeBase64Body(body: string, where: () => string, fail: (reason: string) => never): Buffer {
  // RFC 1421 headers (Proc-Type:, DEK-Info:) only ever precede encrypted keys, which are refused above.
  const compact = body.replace(/\s+/g, "");
  const bad = compact.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) fail(`${where()} has invalid base64: character ${JSON.stringify(compact[bad])} at offset ${bad}`);
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64_BODY.test(compact)) {
    fail(`${where()} has invalid base64: ${compact.length} characters, padding or length is wrong (truncated?)`);
  }
  return Buffer.from(compact, "base64");
}

// OpenSSL's "TRUSTED CERTIFICATE" is the certificate's DER followed by auxiliary trust settings.
function trustedCertificateDer(der: Buffer, where: () => string, fail: (reason: string) => never): Buffer {
  const length = firstDerElementLength(der);
  const certificateDer = length !== undefined && length <= der.length ? der.subarray(0, length) : undefined;
  if (!certificateDer || !isCertificate(certificateDer)) fail(`${where()} does not start with an X.509 certificate`);
  return certificateDer!;
}

function isCertificate(der: Buffer): boolean {
  try {
    new X509Certificate(der);
    return true;
  } catch {
    return false;
  }
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let index = text.indexOf("\n"); index >= 0 && index < offset; index = text.indexOf("\n", index + 1)) line++;
  return line;
}

function readX509(der: Buffer, where: string, fail: (reason: string) => never): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (error) {
    return fail(`${where} is neither an X.509 certificate nor PKCS#7 (.p7b) data: ${(error as Error).message}`);
  }
}

const hex = (fingerprint: string) => fingerprint.replace(/:/g, "").toUpperCase();

// The issuer rides along for stores that tell roots (self-issued) from the intermediates beside them.
function identify(x509: X509Certificate): CertificateIdentity & { issuer: string } {
  const subject = displayName(x509.subject);
  return {
    issuer: displayName(x509.issuer),
    sha1: hex(x509.fingerprint),
    sha256: hex(x509.fingerprint256),
    subject,
    commonName: commonNameOf(x509.subject) ?? subject,
    notAfter: new Date(x509.validTo).toISOString(),
  };
}

function describe(der: Buffer, where: string, fail: (reason: string) => never): Certificate {
  const x509 = readX509(der, where, fail);
  const selfSigned = x509.checkIssued(x509) && verifiesWithOwnKey(x509);
  const { keyAlgorithm, keySize } = keyOf(x509);
  return {
    ...identify(x509),
    issuer: displayName(x509.issuer),
    serial: x509.serialNumber.toUpperCase(),
    notBefore: new Date(x509.validFrom).toISOString(),
    isCA: x509.ca,
    selfSigned,
    kind: kindOf(x509.ca, selfSigned),
    keyAlgorithm,
    keySize,
    signatureAlgorithm: signatureAlgorithmOf(der),
    pem: toPem(der),
    der: Buffer.from(der),
  };
}

/** True when `issuer` issued `child`: names and key identifiers match, and the signature verifies with its key. */
export function issuedBy(child: { der: Buffer }, issuer: { der: Buffer }): boolean {
  try {
    const [childX509, issuerX509] = [new X509Certificate(child.der), new X509Certificate(issuer.der)];
    return childX509.checkIssued(issuerX509) && childX509.verify(issuerX509.publicKey);
  } catch {
    return false;
  }
}

function verifiesWithOwnKey(x509: X509Certificate): boolean {
  try {
    return x509.verify(x509.publicKey);
  } catch {
    return false;
  }
}

function kindOf(isCA: boolean, selfSigned: boolean): CertificateKind {
  if (!isCA) return "leaf";
  return selfSigned ? "root" : "intermediate";
}

function keyOf(x509: X509Certificate): { keyAlgorithm: string; keySize: number } {
  const key = x509.publicKey;
  const keyAlgorithm = key.asymmetricKeyType ?? "unknown";
  const details = key.asymmetricKeyDetails ?? {};
  if (details.modulusLength) return { keyAlgorithm, keySize: details.modulusLength };
  if (details.namedCurve) return { keyAlgorithm, keySize: EC_CURVE_BITS[details.namedCurve] ?? 0 };
  if (keyAlgorithm === "ed25519") return { keyAlgorithm, keySize: 256 };
  if (keyAlgorithm === "ed448") return { keyAlgorithm, keySize: 456 };
  return { keyAlgorithm, keySize: 0 };
}

// node prints names one attribute per line, most significant first (C=..., O=..., CN=...); people and
// Windows read them the other way round, comma-separated.
/** Node's one-attribute-per-line name as `CN=..., O=...`, every invisible or control character escaped. */
function displayName(multiline: string): string {
  return printable(multiline.split("\n").filter(Boolean).reverse().join(", "));
}

function commonNameOf(multiline: string): string | undefined {
  const line = multiline.split("\n").find((entry) => entry.startsWith("CN="));
  return line === undefined ? undefined : printable(line.slice(3));
}

/** PEM text of a DER certificate, 64 characters a line. */
export function toPem(der: Buffer): string {
  const body = der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}
