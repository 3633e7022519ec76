export type { Certificate, CertificateKind } from "./types";
export { CertificateInputError } from "./errors";
export { parseCertificates, toPem } from "./parse";
export { normalizeThumbprint, matchesThumbprint } from "./thumbprint";
export { splitByKind, requireRoots, describeCertificate, uniqueCertificates } from "./classify";
export type { CertificatesByKind } from "./classify";
