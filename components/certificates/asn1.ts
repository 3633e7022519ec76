import type * as Forge from "node-forge";
import { nodeForge } from "./forge";

// node:crypto's X509Certificate parses certificates but exposes neither the signature algorithm nor PKCS#7.
// node-forge's certificate parser rejects EC keys, so only its generic ASN.1 reader is used here.

const SIGNATURE_NAMES: Record<string, string> = {
  "1.2.840.10045.4.1": "ecdsa-with-SHA1",
  "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
  "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
  "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
  "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
  "1.3.101.112": "Ed25519",
  "1.3.101.113": "Ed448",
};

const PKCS7_SIGNED_DATA = "1.2.840.113549.1.7.2";

function readAsn1(der: Buffer): Forge.asn1.Asn1 {
  return nodeForge().asn1.fromDer(nodeForge().util.createBuffer(der.toString("binary")), true);
}

function children(node: Forge.asn1.Asn1): Forge.asn1.Asn1[] {
  return Array.isArray(node.value) ? node.value : [];
}

/** The signatureAlgorithm of an X.509 certificate, by name where known. */
export function signatureAlgorithmOf(der: Buffer): string {
  const algorithm = children(children(readAsn1(der))[1] ?? ({} as Forge.asn1.Asn1))[0];
  if (!algorithm || typeof algorithm.value !== "string") return "unknown";
  const oid = nodeForge().asn1.derToOid(algorithm.value);
  return SIGNATURE_NAMES[oid] ?? nodeForge().pki.oids[oid] ?? oid;
}

/**
 * The DER of every certificate in a PKCS#7 SignedData (a .p7b/.p7c "certificate chain" file).
 * Returns undefined when the data is not PKCS#7 SignedData at all.
 */
export function certificatesInPkcs7(der: Buffer): Buffer[] | undefined {
  let contentInfo: Forge.asn1.Asn1;
  try {
    contentInfo = readAsn1(der);
  } catch {
    return undefined;
  }
  const [contentType, explicitContent] = children(contentInfo);
  if (!contentType || typeof contentType.value !== "string") return undefined;
  if (nodeForge().asn1.derToOid(contentType.value) !== PKCS7_SIGNED_DATA) return undefined;
  const signedData = children(explicitContent ?? ({} as Forge.asn1.Asn1))[0];
  if (!signedData) return undefined;
  // SignedData ::= SEQUENCE { version, digestAlgorithms, contentInfo, certificates [0] IMPLICIT OPTIONAL, ... }
  const certificateSet = children(signedData).find(
    (node) => node.tagClass === nodeForge().asn1.Class.CONTEXT_SPECIFIC && node.type === 0,
  );
  if (!certificateSet) return [];
  return children(certificateSet).map((node) => Buffer.from(nodeForge().asn1.toDer(node).getBytes(), "binary"));
}

/** Length in bytes of the first DER element (tag + length + content), or undefined when malformed. */
export function firstDerElementLength(der: Buffer): number | undefined {
  if (der.length < 2) return undefined;
  const first = der[1];
  if (first < 0x80) return 2 + first;
  const lengthBytes = first & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 4 || der.length < 2 + lengthBytes) return undefined;
  let contentLength = 0;
  for (let index = 0; index < lengthBytes; index++) contentLength = contentLength * 256 + der[2 + index];
  return 2 + lengthBytes + contentLength;
}
