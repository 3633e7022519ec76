export type { Certificate, CertificateIdentity, CertificateKind, FetchedFrom } from "./types";
export { CertificateInputError } from "./errors";
export { parseCertificates, parseCertificateIdentities, toPem, issuedBy } from "./parse";
export { normalizeThumbprint, matchesThumbprint } from "./thumbprint";
export { splitByKind, requireRoots, describeCertificate, uniqueCertificates, sameSubjectAndKey, chainCertificateProblems } from "./classify";
export type { CertificatesByKind } from "./classify";
