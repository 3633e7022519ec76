import type { Certificate } from "./types";

// certmgr's details pane prepends U+200E (left-to-right mark) when a thumbprint is copied; byte-order and
// other invisible marks arrive the same way from documents and chat tools.
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060\uFEFF]/g;
const SEPARATORS = /[\s:]/g;

/**
 * Turn a thumbprint as people paste it (spaces, colons, any case, invisible marks) into upper-case hex.
 * Only SHA-1 (40 hex digits) and SHA-256 (64) are accepted.
 */
export function normalizeThumbprint(input: string): string {
  const compact = String(input).replace(INVISIBLE, "").replace(SEPARATORS, "").toUpperCase();
  if (!/^[0-9A-F]+$/.test(compact) || (compact.length !== 40 && compact.length !== 64)) {
    throw new Error(
      `thumbprint ${JSON.stringify(input)} is not a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) ` +
        `fingerprint; copy it from certmgr's "Thumbprint" field or from ` +
        "`openssl x509 -noout -fingerprint -sha256 -in FILE`",
    );
  }
  return compact;
}

/** True when a normalized thumbprint (either length) identifies this certificate. */
export function matchesThumbprint(certificate: Pick<Certificate, "sha1" | "sha256">, thumbprint: string): boolean {
  return thumbprint.length === 40 ? certificate.sha1 === thumbprint : certificate.sha256 === thumbprint;
}
