/** What a certificate is for a trust store: a self-signed CA (root), a CA issued by another (intermediate), or neither. */
export type CertificateKind = "root" | "intermediate" | "leaf";

/** One parsed X.509 certificate, as plain data (it travels into Pulumi state and JSON reports). */
export interface Certificate {
  /** SHA-1 of the DER, upper-case hex without separators: the Windows "thumbprint". */
  sha1: string;
  /** SHA-256 of the DER, upper-case hex without separators. */
  sha256: string;
  /** Distinguished name in display order, e.g. `CN=Contoso Root CA, O=Contoso, C=US`. */
  subject: string;
  issuer: string;
  /** The subject's common name, or the whole subject when it has none: a human label. */
  commonName: string;
  /** Serial number, upper-case hex. */
  serial: string;
  /** ISO 8601 timestamps. */
  notBefore: string;
  notAfter: string;
  /** basicConstraints cA=TRUE. */
  isCA: boolean;
  /** Issuer equals subject and the signature verifies with the certificate's own key. */
  selfSigned: boolean;
  kind: CertificateKind;
  keyAlgorithm: string;
  /** RSA modulus bits, EC curve bits, 256 for Ed25519. */
  keySize: number;
  /** e.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA384`; the dotted OID when unknown. */
  signatureAlgorithm: string;
  /** Canonical PEM, re-encoded from the DER (never the caller's text). */
  pem: string;
  der: Buffer;
  /** Set when the certificate was fetched from a URL or certsrv rather than read from a file. */
  fetchedFrom?: FetchedFrom;
}

/** Where a fetched certificate came from; the pinned-sources policy refuses an unpinned one. */
export interface FetchedFrom {
  url: string;
  /** True when a pinned thumbprint selected it; false only where a program allowed unpinned roots. */
  pinned: boolean;
  /** Which pin selected it: a SHA-1 one works (certmgr shows SHA-1) but the sha256-pins policy asks for SHA-256. */
  pinnedBy?: "SHA-1" | "SHA-256";
}

/** What identifies a certificate in a store: enough to compare, report and name it. */
export type CertificateIdentity = Pick<Certificate, "sha1" | "sha256" | "subject" | "commonName" | "notAfter">;
