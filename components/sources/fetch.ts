import { Agent, fetch, ProxyAgent, type Dispatcher } from "undici";
import { redactUrlCredentials } from "./redact";

/** How one source is fetched: each request gets the whole timeout, from connecting to its last byte. */
export interface FetchSettings {
  timeoutSeconds: number;
  /** http://host:port of an HTTP proxy; https sources go through it with CONNECT, http ones as plain requests. */
  proxy?: string;
  /** The proxy's login, user:password (a secret: never part of the proxy URL, never in a message). */
  proxyCredentials?: string;
  /** PEM of the CAs that may issue the source's TLS certificate, instead of Node's public list. */
  ca?: string;
}

/** A source's answer: its bytes and where they came from after redirects. */
export interface FetchedBody {
  url: string;
  finalUrl: string;
  contentType: string;
  body: Buffer;
}

/** A source that gave no usable answer; the message says which URL and what happened, with no URL's login in it. */
export class SourceFetchError extends Error {
  constructor(message: string) {
    super(redactUrlCredentials(message));
  }
}

const PROXY_LOGIN_HINT = "the proxy wants a login: set its user:password as the secret proxyCredentials";

/** A CA's answer is a few certificates; anything far larger is not what was asked for. */
export const MAX_SOURCE_BYTES = 4 * 1024 * 1024;

const TLS_CODES: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its TLS certificate is not issued by a CA this machine trusts",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "its TLS certificate is not issued by a CA this machine trusts",
  SELF_SIGNED_CERT_IN_CHAIN: "its TLS certificate chains to a root this machine does not trust",
  DEPTH_ZERO_SELF_SIGNED_CERT: "its TLS certificate is self-signed",
  CERT_HAS_EXPIRED: "its TLS certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "its TLS certificate is for another name",
};

/** What a TLS error code says about the source's certificate, and the fix; undefined for other errors. */
export function tlsProblem(code: string | undefined): string | undefined {
  return code && TLS_CODES[code] ? `${TLS_CODES[code]} (${code}); give the CA that issued it in fetch.caBundleFile` : undefined;
}

function dispatcherFor(settings: FetchSettings): Dispatcher {
  const tls = settings.ca ? { ca: settings.ca } : {};
  // proxyTunnel false: a plain http source is asked through the proxy as usual; corporate proxies often allow CONNECT only to 443.
  if (!settings.proxy) return new Agent({ connect: tls });
  const token = settings.proxyCredentials ? { token: `Basic ${Buffer.from(settings.proxyCredentials, "utf8").toString("base64")}` } : {};
  return new ProxyAgent({ uri: settings.proxy, requestTls: tls, proxyTunnel: false, ...token });
}

/** A source that could not be reached: the error's code (when its message lacks it) and message. */
export function unreachable(where: string, code: string | undefined, reason: string, via = ""): string {
  return `${where}: cannot be reached${via}: ${code && !reason.includes(code) ? `${code} ` : ""}${reason}`;
}

/** Why a request failed, as a sentence an operator can act on. */
function describeFailure(error: unknown, url: string, settings: FetchSettings): string {
  const failure = error as Error & { cause?: Error & { code?: string } };
  if (failure.name === "TimeoutError" || failure.cause?.name === "TimeoutError") {
    return `${url}: no complete answer within ${settings.timeoutSeconds} s (fetch.timeoutSeconds)`;
  }
  const code = failure.cause?.code ?? (failure as { code?: string }).code;
  const tls = tlsProblem(code);
  if (tls) return `${url}: ${tls}`;
  const via = settings.proxy ? ` through the proxy ${settings.proxy}` : "";
  const reason = failure.cause?.message ?? failure.message;
  if (settings.proxy && /\b407\b/.test(reason)) return `${url}: refused by the proxy ${settings.proxy} (HTTP 407): ${PROXY_LOGIN_HINT}`;
  return unreachable(url, code, reason, via);
}

/** GET `url` following redirects; the body must be complete, non-empty and 2xx, within the timeout. */
export async function fetchBody(url: string, settings: FetchSettings): Promise<FetchedBody> {
  const dispatcher = dispatcherFor(settings);
  const signal = AbortSignal.timeout(settings.timeoutSeconds * 1000);
  try {
    const response = await fetch(url, { dispatcher, signal, redirect: "follow", headers: { accept: "application/pkix-cert, application/pkcs7-mime, application/x-pem-file, */*" } });
    const finalUrl = response.url || url;
    const where = finalUrl === url ? url : `${url} (redirected to ${finalUrl})`;
    if (!response.ok) {
      await response.body?.cancel();
      const hint = response.status === 407 && settings.proxy ? `: ${PROXY_LOGIN_HINT}` : "";
      throw new SourceFetchError(`${where}: answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${hint}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += chunk.length;
      if (size > MAX_SOURCE_BYTES) throw new SourceFetchError(`${where}: the answer is larger than ${MAX_SOURCE_BYTES} bytes; that is no certificate`);
      chunks.push(Buffer.from(chunk));
    }
    if (size === 0) throw new SourceFetchError(`${where}: answered HTTP ${response.status} with an empty body`);
    return { url, finalUrl, contentType: response.headers.get("content-type") ?? "", body: Buffer.concat(chunks) };
  } catch (error) {
    if (error instanceof SourceFetchError) throw error;
    throw new SourceFetchError(describeFailure(error, url, settings));
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
}
