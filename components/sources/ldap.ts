import { Client, InsufficientAccessError, InvalidCredentialsError, NoSuchObjectError } from "ldapts";
import { SourceFetchError, tlsProblem, unreachable } from "./fetch";

/** A directory that publishes CA certificates, e.g. AD's Certification Authorities container. */
export interface LdapSource {
  /** ldap://host[:port] or ldaps://host[:port]. */
  url: string;
  /** Where to search (scope sub) for entries with a cACertificate. */
  base: string;
  /** Bind as this DN with the password; without it the search is anonymous. */
  bindDn?: string;
  /** Upgrade an ldap:// connection with StartTLS before binding. */
  startTls?: boolean;
}

export interface LdapSettings {
  timeoutSeconds: number;
  /** PEM of the CAs that issue the directory's own TLS certificate. */
  ca?: string;
  password?: string;
}

/** Why a bind would send its password in clear text (ldap:// without StartTLS), with the fix; undefined when it would not. */
export function cleartextBindProblem(source: Pick<LdapSource, "url" | "bindDn" | "startTls">): string | undefined {
  return source.bindDn && /^ldap:/i.test(source.url) && !source.startTls
    ? "a bind over ldap:// without startTls sends the password in clear text; use ldaps://host (port 636) or set startTls: true"
    : undefined;
}

// AD and OpenLDAP publish the same attribute; OpenLDAP returns certificate syntax with the ;binary option.
const CERTIFICATE_ATTRIBUTES = ["cACertificate", "cACertificate;binary"];

/** Every cACertificate value under the base: each entry's DER certificates. */
export async function fetchLdapCertificates(source: LdapSource, settings: LdapSettings): Promise<Buffer[]> {
  const timeout = settings.timeoutSeconds * 1000;
  const tlsOptions = settings.ca ? { ca: settings.ca } : {};
  // TLS options only for ldaps: given to an ldap:// client, they break its later StartTLS handshake.
  const ldaps = /^ldaps:/i.test(source.url);
  const client = new Client({ url: source.url, timeout, connectTimeout: timeout, ...(ldaps ? { tlsOptions } : {}) });
  const where = `${source.url} (${source.base})`;
  const cleartext = cleartextBindProblem(source);
  if (cleartext) throw new SourceFetchError(`${where}: ${cleartext}`);
  try {
    // ldapts' StartTLS does not pass the host on: without it Node checks the certificate against "localhost".
    if (source.startTls) await client.startTLS({ ...tlsOptions, host: new URL(source.url).hostname });
    if (source.bindDn) await client.bind(source.bindDn, settings.password ?? "");
    const { searchEntries } = await client.search(source.base, {
      scope: "sub",
      filter: "(cACertificate=*)",
      attributes: CERTIFICATE_ATTRIBUTES,
      explicitBufferAttributes: CERTIFICATE_ATTRIBUTES,
    });
    const ders = searchEntries.flatMap((entry) => CERTIFICATE_ATTRIBUTES.flatMap((name) => [entry[name] ?? []].flat() as Buffer[]));
    if (ders.length === 0) {
      throw new SourceFetchError(`${where}: no entry with a cACertificate${source.bindDn ? ` readable by ${source.bindDn}` : " readable anonymously (set bindDn)"}`);
    }
    return ders;
  } catch (error) {
    if (error instanceof SourceFetchError) throw error;
    if (error instanceof InvalidCredentialsError) {
      throw new SourceFetchError(`${where}: the directory refused the bind as ${source.bindDn} (invalid credentials); check the secret ldapPassword`);
    }
    if (error instanceof NoSuchObjectError) throw new SourceFetchError(`${where}: the directory has no entry ${source.base}; check base`);
    if (error instanceof InsufficientAccessError) {
      throw new SourceFetchError(`${where}: the directory refused the search (insufficient access)${source.bindDn ? ` for ${source.bindDn}` : "; set bindDn"}`);
    }
    const failure = error as Error & { code?: string };
    // ldapts reports an expired operation as "<Request>: Operation timed out", a slow connect as "Connection timeout".
    if (/timed out|timeout/i.test(failure.message)) {
      throw new SourceFetchError(`${where}: no complete answer within ${settings.timeoutSeconds} s (fetch.timeoutSeconds)`);
    }
    const tls = tlsProblem(failure.code);
    if (tls) throw new SourceFetchError(`${where}: ${tls}`);
    throw new SourceFetchError(unreachable(where, failure.code, failure.message));
  } finally {
    await client.unbind().catch(() => undefined);
  }
}
