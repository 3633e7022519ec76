import { createHash } from "node:crypto";
import type * as Forge from "node-forge";
import { nodeForge } from "../certificates/forge";

/**
 * Microsoft's certificate trust lists (CTL), as a Windows host caches them in its registry
 * (`HKLM\SOFTWARE\Microsoft\SystemCertificates\AuthRoot\AutoUpdate`, `EncodedCtl` = authroot.stl for the
 * root program, `DisallowedCertEncodedCtl` for automatic distrust). The authority on which roots are
 * Microsoft's: a root listed there is the operating system's, never a local one to purge.
 *
 * Structure [MS-CAESO; RFC 2315]: PKCS#7 SignedData whose content type is szOID_CTL (1.3.6.1.4.1.311.10.1)
 * and whose content is
 *   CertificateTrustList ::= SEQUENCE { version INTEGER OPTIONAL, subjectUsage SEQUENCE OF OID,
 *     listIdentifier OCTET STRING OPTIONAL, sequenceNumber INTEGER OPTIONAL, ctlThisUpdate Time,
 *     ctlNextUpdate Time OPTIONAL, subjectAlgorithm AlgorithmIdentifier,
 *     trustedSubjects SEQUENCE OF SEQUENCE { subjectIdentifier OCTET STRING, attributes SET OPTIONAL } OPTIONAL,
 *     ctlExtensions [0] EXPLICIT Extensions OPTIONAL }
 * The signature is not checked here: the list only ever makes the tool remove less.
 */
export interface TrustList {
  /** Hash algorithm of the subject identifiers, as node:crypto names it (sha1 for authroot.stl). */
  algorithm: string;
  /** Upper-case hex identifiers: hashes of each listed certificate under `algorithm`. */
  subjects: Set<string>;
  thisUpdate: string;
}

export class TrustListError extends Error {
  constructor(message: string) {
    super(`not a Microsoft certificate trust list: ${message}`);
    this.name = "TrustListError";
  }
}

const OID_SIGNED_DATA = "1.2.840.113549.1.7.2";
const OID_CTL = "1.3.6.1.4.1.311.10.1";
const DIGEST_NAMES: Record<string, string> = {
  "1.3.14.3.2.26": "sha1",
  "1.2.840.113549.2.5": "md5",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};

type Node = Forge.asn1.Asn1;
const asn1 = () => nodeForge().asn1;

function kids(node: Node | undefined, what: string): Node[] {
  if (!node || !Array.isArray(node.value)) throw new TrustListError(`${what} is missing or not a constructed value`);
  return node.value;
}

function oidOf(node: Node | undefined, what: string): string {
  if (!node || node.type !== asn1().Type.OID || typeof node.value !== "string") throw new TrustListError(`${what} is not an object identifier`);
  return asn1().derToOid(node.value);
}

const universal = (node: Node | undefined, type: number) => node !== undefined && node.tagClass === asn1().Class.UNIVERSAL && node.type === type;
const isTime = (node: Node | undefined) => universal(node, asn1().Type.UTCTIME) || universal(node, asn1().Type.GENERALIZEDTIME);

/** The trust list inside a CTL file or registry blob (DER). */
export function parseTrustList(der: Buffer): TrustList {
  let top: Node;
  try {
    top = asn1().fromDer(nodeForge().util.createBuffer(der.toString("binary")), true);
  } catch (error) {
    throw new TrustListError(`its DER does not parse (${(error as Error).message})`);
  }
  const [contentType, explicit] = kids(top, "the ContentInfo");
  if (oidOf(contentType, "the content type") !== OID_SIGNED_DATA) throw new TrustListError("it is not PKCS#7 SignedData");
  const signedData = kids(explicit, "the SignedData wrapper")[0];
  // SignedData ::= SEQUENCE { version, digestAlgorithms, contentInfo, certificates [0], crls [1], signerInfos }
  const encapsulated = kids(signedData, "the SignedData")[2];
  const [innerType, innerExplicit] = kids(encapsulated, "the encapsulated content");
  if (oidOf(innerType, "the encapsulated content type") !== OID_CTL) throw new TrustListError("its content is not a certificate trust list (1.3.6.1.4.1.311.10.1)");
  let list = kids(innerExplicit, "the trust list")[0];
  // CMS wraps the content in an OCTET STRING; PKCS#7 (authroot.stl) places the SEQUENCE directly.
  if (universal(list, asn1().Type.OCTETSTRING)) {
    list = asn1().fromDer(nodeForge().util.createBuffer(typeof list.value === "string" ? list.value : asn1().toDer(list).getBytes()));
  }
  const fields = [...kids(list, "the trust list")];
  if (universal(fields[0], asn1().Type.INTEGER)) fields.shift();
  if (!universal(fields.shift(), asn1().Type.SEQUENCE)) throw new TrustListError("subjectUsage is missing");
  if (universal(fields[0], asn1().Type.OCTETSTRING)) fields.shift();
  if (universal(fields[0], asn1().Type.INTEGER)) fields.shift();
  const thisUpdate = fields.shift();
  if (!isTime(thisUpdate)) throw new TrustListError("ctlThisUpdate is missing");
  if (isTime(fields[0])) fields.shift();
  const algorithmOid = oidOf(kids(fields.shift(), "subjectAlgorithm")[0], "subjectAlgorithm");
  const algorithm = DIGEST_NAMES[algorithmOid];
  if (!algorithm) throw new TrustListError(`subject algorithm ${algorithmOid} is not a known hash`);
  const subjects = new Set<string>();
  if (universal(fields[0], asn1().Type.SEQUENCE)) {
    for (const subject of kids(fields[0], "trustedSubjects")) {
      const identifier = kids(subject, "a trusted subject")[0];
      if (!universal(identifier, asn1().Type.OCTETSTRING) || typeof identifier.value !== "string") throw new TrustListError("a subject identifier is not an OCTET STRING");
      subjects.add(Buffer.from(identifier.value, "binary").toString("hex").toUpperCase());
    }
  }
  return { algorithm, subjects, thisUpdate: String(thisUpdate!.value) };
}

/** Whether a certificate (DER) is on the list, hashed the way the list hashes its subjects. */
export function listsCertificate(list: TrustList, der: Buffer): boolean {
  return list.subjects.has(createHash(list.algorithm).update(der).digest("hex").toUpperCase());
}

/**
 * The roots Microsoft documents as required by Windows itself [KB293781, "Trusted root certificates that are
 * required by Windows Server"], SHA-1 thumbprints. Two of them are not in the root program's list, so the
 * list alone does not protect them; expired ones are still needed to verify old signatures.
 */
export const WINDOWS_REQUIRED_ROOTS: ReadonlyMap<string, string> = new Map([
  ["A43489159A520F0D93D032CCAF37E7FE20A8B419", "Microsoft Root Authority"],
  ["CDD4EEAE6000AC7F40C3802C171E30148030C072", "Microsoft Root Certificate Authority"],
  ["8F43288AD272F3103B6FB1428485EA3014C0BCFE", "Microsoft Root Certificate Authority 2011"],
  ["3B1EFD3A66EA28B16697394703A72CA340A05BD5", "Microsoft Root Certificate Authority 2010"],
  ["245C97DF7514E7CF2DF8BE72AE957B9E04741E85", "Copyright (c) 1997 Microsoft Corp."],
  ["7F88CD7223F3C813818C994614A89C99FA3B5247", "Microsoft Authenticode(tm) Root Authority"],
  ["18F7C1FCC3090203FD5BAA2F861A754976C8DD25", "NO LIABILITY ACCEPTED, (c)97 VeriSign, Inc."],
  ["BE36A4562FB2EE05DBB3D32323ADF445084ED656", "Thawte Timestamping CA"],
  ["92B46C76E13054E104F230517E6E504D43AB10B5", "Symantec Enterprise Mobile Root for Microsoft"],
  ["06F1AA330B927B753A40E68CDF22E34BCBEF3352", "Microsoft ECC Product Root CA 2018"],
  ["31F9FC8BA3805986B721EA7295C65B3A44534274", "Microsoft ECC TS Root CA 2018"],
  ["0119E81BE9A14CD8E22F40AC118C687ECBA3F4D8", "Microsoft Time Stamp Root CA 2014"],
]);
