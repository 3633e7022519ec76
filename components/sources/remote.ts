import { CertificateInputError, describeCertificate, matchesThumbprint, parseCertificates, type Certificate } from "../certificates";
import type { LdapSource } from "./schema";

/** Where a remote root set comes from: a URL serving certificates, an AD CS web enrollment site, or a directory. */
export type RemoteSource = { kind: "url"; url: string } | { kind: "certsrv"; url: string } | ({ kind: "ldap" } & LdapSource);

/** A root set's or a function call's source fields: at most one is set (each boundary's schema checks that). */
export interface SourceFields {
  url?: string;
  certsrv?: string;
  ldap?: LdapSource;
}

/** The source the fields name, or undefined for a set read from files. */
export function remoteSourceOf(fields: SourceFields): RemoteSource | undefined {
  if (fields.url !== undefined) return { kind: "url", url: fields.url };
  if (fields.certsrv !== undefined) return { kind: "certsrv", url: fields.certsrv };
  return fields.ldap ? { kind: "ldap", ...fields.ldap } : undefined;
}

/** How a source is named in messages and in `fetchedFrom`: its URL (a directory's with its search base). */
export function sourceAddress(source: RemoteSource): string {
  return source.kind === "ldap" ? `${source.url.replace(/\/+$/, "")}/${source.base}` : source.url;
}

/** The base of a web enrollment site, without a trailing slash: `http://ca01/certsrv`. */
function certsrvBase(url: string): string {
  return url.replace(/\/+$/, "");
}

/** certcarc.asp: the "Download a CA certificate" page, whose script names how many times the CA was renewed. */
export function certsrvRenewalsPage(url: string): string {
  return `${certsrvBase(url)}/certcarc.asp`;
}

/** The CA certificate chain of one renewal (0 is the first CA certificate), as binary PKCS#7. */
export function certsrvChainUrl(url: string, renewal: number): string {
  return `${certsrvBase(url)}/certnew.p7b?ReqID=CACert&Renewal=${renewal}&Enc=bin`;
}

/**
 * The number of renewals certcarc.asp declares (`var nRenewals=N;`). The page of a site that is not AD CS web
 * enrollment, or a login page, has none: then this says what came back instead.
 */
export function parseRenewalCount(page: string, pageUrl: string): number {
  const match = /\bnRenewals\s*=\s*(\d{1,12})\s*;/.exec(page);
  if (!match) {
    throw new Error(`${pageUrl}: not an AD CS web enrollment page (no "nRenewals"); it answered ${preview(Buffer.from(page))}`);
  }
  const renewals = Number(match[1]);
  if (renewals > MAX_CERTSRV_RENEWALS) {
    throw new Error(`${pageUrl}: declares ${renewals} CA renewals; a CA renews every few years, so more than ${MAX_CERTSRV_RENEWALS} is not a CA's history: check the site`);
  }
  return renewals;
}

/** A CA renewed yearly for a century stays below this; each renewal is one request. */
export const MAX_CERTSRV_RENEWALS = 100;

/** The first bytes of an answer, printable, for messages about what came back. */
export function preview(body: Buffer): string {
  const text = body.subarray(0, 60).toString("latin1").replace(/[^\x20-\x7e]/g, ".");
  return `${body.length} byte(s) starting ${JSON.stringify(text)}`;
}

/** The certificates in a source's answer; an answer that holds none says what it held instead. */
export function certificatesInAnswer(body: Buffer, where: string, contentType: string): Certificate[] {
  try {
    return parseCertificates(body, { name: where });
  } catch (error) {
    if (!(error instanceof CertificateInputError)) throw error;
    throw new Error(`${where}: the answer holds no certificate (content-type ${contentType || "none"}, ${preview(body)})`);
  }
}

export interface PinnedSelection {
  /** The fetched certificates a pinned thumbprint names, in the order of the pins. */
  used: Certificate[];
  /** Fetched but not pinned: left out (a new CA renewal shows up here until it is pinned). */
  leftOut: Certificate[];
}

/**
 * Keep only the fetched certificates that a pinned thumbprint names. Every pin must be found: otherwise the
 * message lists what the source answered, so the operator can compare it with the thumbprint verified out of band.
 */
export function selectPinned(fetched: readonly Certificate[], pins: readonly string[], where: string): PinnedSelection {
  const missing = pins.filter((pin) => !fetched.some((certificate) => matchesThumbprint(certificate, pin)));
  if (missing.length > 0) {
    const answered = fetched.map((certificate) => `${describeCertificate(certificate)}, SHA-256 ${certificate.sha256}`);
    throw new Error(
      `${where}: no certificate it answered has the pinned thumbprint ${missing.join(", ")}; it answered ${fetched.length} certificate(s):` +
        `\n      ${answered.join("\n      ")}\n    ` +
        "compare them with the thumbprint you verified out of band; if the CA's root really changed, pin the new thumbprint",
    );
  }
  const used = pins.flatMap((pin) => fetched.filter((certificate) => matchesThumbprint(certificate, pin)));
  const unique = used.filter((certificate, index) => used.findIndex((other) => other.sha256 === certificate.sha256) === index);
  return { used: unique, leftOut: fetched.filter((certificate) => !unique.some((kept) => kept.sha256 === certificate.sha256)) };
}
