import { X509Certificate } from "node:crypto";
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

/** True when two certificates carry the same subject and public key: a root and its cross-signed form. */
export function sameSubjectAndKey(a: Pick<Certificate, "subject" | "der">, b: Pick<Certificate, "subject" | "der">): boolean {
  if (a.subject !== b.subject) return false;
  const key = (certificate: Pick<Certificate, "der">) => new X509Certificate(certificate.der).publicKey.export({ type: "spki", format: "der" });
  return key(a).equals(key(b));
}

/**
 * Problems with a server's chain certificates, one sentence each: intermediates are CAs issued by another, and a
 * cross-signed certificate is given as such (the same subject and key as a root the server declares, issued
 * by another CA), so neither list smuggles in a root or hides what it is.
 */
export function chainCertificateProblems(roots: readonly Certificate[], intermediates: readonly Certificate[], crossSigned: readonly Certificate[]): string[] {
  const rootOf = (certificate: Certificate) => roots.find((root) => sameSubjectAndKey(root, certificate));
  const notIssued = (certificate: Certificate, list: string) =>
    !certificate.isCA
      ? `${list}: ${describeCertificate(certificate)} is not a CA certificate`
      : certificate.selfSigned
        ? `${list}: ${describeCertificate(certificate)} is a self-signed root; declare it under roots`
        : undefined;
  return [
    ...intermediates.flatMap((certificate) => {
      const problem = notIssued(certificate, "intermediates");
      if (problem) return [problem];
      const root = rootOf(certificate);
      return root ? [`intermediates: ${describeCertificate(certificate)} is a cross-signed form of the root ${describeCertificate(root)} (issued by "${certificate.issuer}"); list it under crossSigned`] : [];
    }),
    ...crossSigned.flatMap((certificate) => {
      const problem = notIssued(certificate, "crossSigned");
      if (problem) return [problem];
      return rootOf(certificate)
        ? []
        : [`crossSigned: ${describeCertificate(certificate)} has the subject and key of no root this server declares; declare that root too, or list it under intermediates`];
    }),
  ];
}
