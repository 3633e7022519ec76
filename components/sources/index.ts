import { matchesThumbprint, uniqueCertificates, type Certificate, type FetchedFrom } from "../certificates";
import type { FetchSettings } from "./fetch";
import { redactUrlCredentials } from "./redact";
import { certificatesInAnswer, certsrvChainUrl, certsrvRenewalsPage, parseRenewalCount, selectPinned, sourceAddress, type RemoteSource } from "./remote";

export type { FetchSettings } from "./fetch";
export { remoteSourceOf } from "./remote";
export type { RemoteSource } from "./remote";
export type { LdapSource } from "./schema";

export const DEFAULT_SOURCE_TIMEOUT_SECONDS = 30;

export interface FetchRootsOptions {
  source: RemoteSource;
  /** Normalized thumbprints (normalizeThumbprint): only the fetched certificates they name are used, and each must be found. */
  thumbprints: readonly string[];
  /** Unset or undefined fields take their defaults (timeoutSeconds: 30). */
  fetch?: Partial<FetchSettings>;
  /**
   * Use everything the source answers when no thumbprint is pinned. The roots then carry `fetchedFrom.pinned:
   * false`, which the policy pack's pinned-sources policy refuses: the source's operator, or anyone on the
   * path, would decide what the fleet trusts.
   */
  allowUnpinned?: boolean;
  /** How messages name the source, e.g. the config key; the URL is added. */
  name?: string;
  /** The password of an LDAP source's bindDn. */
  ldapPassword?: string;
}

export interface FetchedRoots {
  certificates: (Certificate & { fetchedFrom: FetchedFrom })[];
  /** Answered but not pinned: left out. */
  leftOut: Certificate[];
  /** Every URL asked, in order. */
  asked: string[];
}

/**
 * A root set from where the CA publishes it: a URL (DER, PEM or PKCS#7), an AD CS web enrollment site,
 * whose CA certificate chain of every renewal is asked (certcarc.asp says how many there are), or a directory's
 * cACertificate values (AD's Certification Authorities container). Throws, saying
 * which URL and what came back, when a source cannot be reached, answers nothing usable or lacks a pinned root.
 */
export async function fetchRoots(options: FetchRootsOptions): Promise<FetchedRoots> {
  const settings: FetchSettings = { ...options.fetch, timeoutSeconds: options.fetch?.timeoutSeconds ?? DEFAULT_SOURCE_TIMEOUT_SECONDS };
  const label = (url: string) => (options.name ? `${options.name} (${url})` : url);
  const address = sourceAddress(options.source);
  if (options.thumbprints.length === 0 && !options.allowUnpinned) {
    throw new Error(`${label(address)}: pin the thumbprint of each root you verified out of band; a fetched certificate is used only when it matches one`);
  }
  // Loaded on first use: undici and ldapts cost a scan or a program without remote root sets a noticeable start.
  const { fetchBody } = await import("./fetch.js");
  const named = (error: Error) => new Error(redactUrlCredentials(options.name ? `${options.name}: ${error.message}` : error.message));
  const asked: string[] = [];
  const get = async (url: string) => {
    asked.push(url);
    return fetchBody(url, settings).catch((error: Error) => {
      throw named(error);
    });
  };
  let answered: Certificate[];
  if (options.source.kind === "ldap") {
    asked.push(address);
    const { fetchLdapCertificates } = await import("./ldap.js");
    const ders = await fetchLdapCertificates(options.source, { ...settings, password: options.ldapPassword }).catch((error: Error) => {
      throw named(error);
    });
    answered = uniqueCertificates(ders.flatMap((der) => certificatesInAnswer(der, label(address), "cACertificate")));
  } else if (options.source.kind === "url") {
    const answer = await get(options.source.url);
    answered = certificatesInAnswer(answer.body, label(answer.finalUrl), answer.contentType);
  } else {
    const page = await get(certsrvRenewalsPage(options.source.url));
    const renewals = parseRenewalCount(page.body.toString("latin1"), label(page.finalUrl));
    answered = [];
    for (let renewal = 0; renewal <= renewals; renewal += 1) {
      const chain = await get(certsrvChainUrl(options.source.url, renewal));
      answered.push(...certificatesInAnswer(chain.body, label(chain.finalUrl), chain.contentType));
    }
    answered = uniqueCertificates(answered);
  }
  const pinned = options.thumbprints.length > 0;
  const { used, leftOut } = pinned ? selectPinned(answered, options.thumbprints, label(address)) : { used: answered, leftOut: [] };
  const pinnedBy = (certificate: Certificate): FetchedFrom["pinnedBy"] =>
    options.thumbprints.some((pin) => pin.length === 64 && matchesThumbprint(certificate, pin)) ? "SHA-256" : "SHA-1";
  return {
    certificates: used.map((certificate) => ({ ...certificate, fetchedFrom: { url: address, pinned, ...(pinned ? { pinnedBy: pinnedBy(certificate) } : {}) } })),
    leftOut,
    asked,
  };
}
