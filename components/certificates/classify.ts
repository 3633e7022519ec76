import { CertificateInputError } from "./errors";
import type { Certificate } from "./types";

export interface CertificatesByKind {
  roots: Certificate[];
  intermediates: Certificate[];
  leaves: Certificate[];
}

export function splitByKind(certificates: readonly Certificate[]): CertificatesByKind {
  return {
    roots: certificates.filter((certificate) => certificate.kind === "root"),
    intermediates: certificates.filter((certificate) => certificate.kind === "intermediate"),
    leaves: certificates.filter((certificate) => certificate.kind === "leaf"),
  };
}

/** One line naming a certificate for error messages and reports. */
export function describeCertificate(certificate: Pick<Certificate, "subject" | "sha1">): string {
  return `"${certificate.subject}" (SHA-1 ${certificate.sha1})`;
}

/**
 * The certificates of a bundle meant for a root store. Anything that is not a self-signed CA is refused,
 * never installed into the wrong store: the message names each offender and where it belongs.
 */
export function requireRoots(certificates: readonly Certificate[], inputName: string): Certificate[] {
  const { roots, intermediates, leaves } = splitByKind(certificates);
  const problems = [
    ...intermediates.map(
      (certificate) =>
        `${describeCertificate(certificate)} is an intermediate CA (issued by "${certificate.issuer}"): ` +
        "install it in the intermediate store (Windows 'CA'), not as a trusted root",
    ),
    ...leaves.map(
      (certificate) =>
        `${describeCertificate(certificate)} is not a CA certificate (basicConstraints cA is not TRUE): ` +
        "a server or client certificate never belongs in a root store",
    ),
  ];
  if (problems.length > 0) {
    throw new CertificateInputError(
      inputName,
      `holds ${problems.length} certificate(s) that are not self-signed root CAs; split the file so it holds ` +
        `roots only:\n  - ${problems.join("\n  - ")}`,
    );
  }
  return roots;
}

/** The certificates with one entry per SHA-256 fingerprint, first occurrence kept. */
export function uniqueCertificates<T extends Pick<Certificate, "sha256">>(certificates: readonly T[]): T[] {
  const seen = new Set<string>();
  return certificates.filter((certificate) => !seen.has(certificate.sha256) && seen.add(certificate.sha256));
}
