import { Client, InsufficientAccessError, InvalidCredentialsError, NoSuchObjectError } from "ldapts";
import type { Socket } from "node:net";
import { MAX_SOURCE_BYTES, SourceFetchError, tlsProblem, unreachable } from "./fetch";
import { cleartextBindProblem, type LdapSource } from "./schema";

/** A Certification Authorities container holds a few dozen CAs; far more is not what was asked for. */
export const MAX_LDAP_ENTRIES = 1000;

export type { LdapSource } from "./schema";

export interface LdapSettings {
  timeoutSeconds: number;
  /** PEM of the CAs that issue the directory's own TLS certificate. */
  ca?: string;
  password?: string;
}

// AD and OpenLDAP publish the same attribute; OpenLDAP returns certificate syntax with the ;binary option.
const CERTIFICATE_ATTRIBUTES = ["cACertificate", "cACertificate;binary"];

/** Every cACertificate value under the base: each entry's DER certificates. */
export async function fetchLdapCertificates(source: LdapSource, settings: LdapSettings): Promise<Buffer[]> {
  const timeout = settings.timeoutSeconds * 1000;
  const tlsOptions = settings.ca ? { ca: settings.ca } : {};
  // TLS options only for ldaps: given to an ldap:// client, they break its later StartTLS handshake.
  const ldaps = /^ldaps:/i.test(source.url);
  const where = `${source.url} (${source.base})`;
  const cleartext = cleartextBindProblem(source);
  if (cleartext) throw new SourceFetchError(`${where}: ${cleartext}`);
  const client = new Client({ url: source.url, timeout, connectTimeout: timeout, ...(ldaps ? { tlsOptions } : {}) });
  const oversize = capAnswerBytes(client, MAX_SOURCE_BYTES);
  // One deadline for the whole exchange: ldapts' timeout is per operation, which a server could extend op by op.
  let expired = false;
  const deadline = setTimeout(() => {
    expired = true;
    socketOf(client)?.destroy();
  }, timeout);
  try {
    // ldapts' StartTLS does not pass the host on: without it Node checks the certificate against "localhost".
    if (source.startTls) await client.startTLS({ ...tlsOptions, host: new URL(source.url).hostname });
    if (source.bindDn) await client.bind(source.bindDn, settings.password ?? "");
    const { searchEntries } = await client.search(source.base, {
      scope: "sub",
      filter: "(cACertificate=*)",
      attributes: CERTIFICATE_ATTRIBUTES,
      explicitBufferAttributes: CERTIFICATE_ATTRIBUTES,
      sizeLimit: MAX_LDAP_ENTRIES + 1,
    });
    if (searchEntries.length > MAX_LDAP_ENTRIES) {
      throw new SourceFetchError(`${where}: answered more than ${MAX_LDAP_ENTRIES} entries with a cACertificate; narrow base to the Certification Authorities container`);
    }
    const ders = searchEntries.flatMap((entry) => CERTIFICATE_ATTRIBUTES.flatMap((name) => [entry[name] ?? []].flat() as Buffer[]));
    if (ders.length === 0) {
      throw new SourceFetchError(`${where}: no entry with a cACertificate${source.bindDn ? ` readable by ${source.bindDn}` : " readable anonymously (set bindDn)"}`);
    }
    return ders;
  } catch (error) {
    if (error instanceof SourceFetchError) throw error;
    if (oversize()) throw new SourceFetchError(`${where}: the answer is larger than ${MAX_SOURCE_BYTES} bytes; that is no set of CA certificates`);
    if (expired) throw new SourceFetchError(`${where}: no complete answer within ${settings.timeoutSeconds} s (fetch.timeoutSeconds)`);
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
    clearTimeout(deadline);
    await client.unbind().catch(() => undefined);
  }
}

// ldapts keeps its socket and the handler it feeds private; both are read here to count what a directory sends,
// so a hostile one cannot fill memory before the search returns. capAnswerBytes' test fails if ldapts renames them.
interface LdaptsInternals {
  socket?: Socket;
  socketDataHandler: (data: Buffer) => void;
}

function socketOf(client: Client): Socket | undefined {
  return (client as unknown as LdaptsInternals).socket;
}

/** Close the connection once the directory has sent more than `limit` bytes; the result says whether it did. */
function capAnswerBytes(client: Client, limit: number): () => boolean {
  const internals = client as unknown as LdaptsInternals;
  const parse = internals.socketDataHandler;
  if (typeof parse !== "function") throw new Error("ldapts changed: its socketDataHandler is gone; update capAnswerBytes");
  let received = 0;
  internals.socketDataHandler = (data: Buffer) => {
    received += data.length;
    if (received > limit) socketOf(client)?.destroy();
    else parse(data);
  };
  return () => received > limit;
}
