import { Agent as HttpsAgent, request } from "node:https";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { isIP } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import type { Duplex } from "node:stream";
import { z } from "zod";

/** The TLS versions a health check can be capped at. */
export const TLS_VERSIONS = ["1.2", "1.3"] as const;

/** A certificate and key presented as the TLS client (the symptom of a lost root is its rejection). */
export const clientCertificateSchema = z.object({
  cert: z.string().meta({ description: "PEM certificate." }),
  key: z.string().meta({ description: "PEM private key.", secret: true }),
});

/** An HTTP(S) request that proves the fix: typically the web server, presenting a client certificate. */
export const healthCheckSchema = z
  .object({
    url: z.string().url("must be an http:// or https:// URL").meta({ description: "http:// or https:// URL." }),
    expectStatus: z.number().int().min(100).max(599).default(200).meta({ description: "Expected status ({default})." }),
    clientCertificate: clientCertificateSchema.optional().meta({ description: "Presented as the TLS client." }),
    caCertificate: z.string().optional().meta({ description: "PEM of the CA that issued the server's certificate." }),
    insecureSkipTlsVerify: z.boolean().default(false).meta({ description: "Do not verify the server's certificate." }),
    /**
     * Unset means "1.2" for Windows servers and "1.3" otherwise (`forPlatform`). IIS sites that ask for the client
     * certificate after the handshake (renegotiation, the SslNegotiateCert default) cannot do so under TLS 1.3:
     * Server 2022 resets the connection, 2025 answers 500.
     */
    tlsVersion: z.enum(TLS_VERSIONS).optional().meta({
      description: "Highest TLS version offered; unset: 1.2 for Windows servers (IIS asks for the client certificate by renegotiation, which TLS 1.3 removed), 1.3 otherwise.",
    }),
    timeoutSeconds: z.number().positive().default(120).meta({ description: "Give up after ({default})." }),
    intervalSeconds: z.number().positive().default(2).meta({ description: "Between attempts ({default})." }),
  })
  .meta({ description: "An HTTP(S) request that proves the fix." });
export type HealthCheckInput = z.input<typeof healthCheckSchema>;
export type HealthCheck = z.output<typeof healthCheckSchema>;

/** The check as it runs against a server of `platform`: an unset TLS version becomes that platform's default. */
export function forPlatform(check: HealthCheck, platform: string): HealthCheck {
  return { ...check, tlsVersion: check.tlsVersion ?? (platform === "windows" ? "1.2" : "1.3") };
}

export interface HealthResult {
  status: number;
  attempts: number;
  elapsedSeconds: number;
}

/** What IIS's client-certificate substatus codes mean [learn.microsoft.com, "HTTP status code overview"]. */
export const IIS_SUBSTATUS: Readonly<Record<string, string>> = {
  "403.7": "client certificate required: the client offered none (the server's store may lack the root, so the browser found no match)",
  "403.13": "client certificate revoked",
  "403.16": "client certificate untrusted or invalid: its root is not in the server's Trusted Root store, or a non-self-signed certificate sits there",
  "403.17": "client certificate expired or not yet valid",
};

// IIS's default errorMode (DetailedLocalOnly) sends remote clients a custom error page without the substatus.
const UNNAMED_403 =
  "(no substatus in the answer: IIS names 403.7/403.16/403.13/403.17 only in detailed errors, by default sent to local clients only; " +
  "read sc-substatus in the site's IIS log, or run the check from the server)";

/** The IIS substatus an error page names ("403.16"), if it is one of the client-certificate ones. */
export function iisSubstatus(status: number, body: string): string | undefined {
  for (const code of Object.keys(IIS_SUBSTATUS)) {
    if (code.startsWith(`${status}.`) && new RegExp(`\\b${code.replace(".", "\\.")}\\b`).test(body)) return code;
  }
  return undefined;
}

export interface ProbeResult {
  status: number;
  /** IIS's client-certificate substatus, when the answer names one. */
  substatus?: string;
}

/** The TLS side of the check: the client certificate, the CA, and the highest version offered. */
function tlsOptions(check: HealthCheck): ConnectionOptions {
  return {
    cert: check.clientCertificate?.cert,
    key: check.clientCertificate?.key,
    ca: check.caCertificate,
    rejectUnauthorized: !check.insecureSkipTlsVerify,
    minVersion: "TLSv1.2",
    maxVersion: check.tlsVersion === "1.2" ? "TLSv1.2" : "TLSv1.3",
  };
}

/** Opens a TCP stream to host:port from somewhere else (a bastion's forwardOut). */
export type Tunnel = (host: string, port: number) => Promise<Duplex>;

/** An agent whose every connection goes through the tunnel, TLS on top for https (fresh each time). */
function tunnelAgent(check: HealthCheck, url: URL, tunnel: Tunnel): HttpAgent {
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const open = (callback: (error: Error | null, socket: Duplex) => void) => {
    tunnel(host, port).then(
      (stream) =>
        callback(
          null,
          url.protocol === "https:"
            ? tlsConnect({
                socket: stream,
                // The name the server's certificate is checked against (SNI only for DNS names).
                host,
                ...(isIP(host) ? {} : { servername: host }),
                ...tlsOptions(check),
              })
            : stream,
        ),
      (error: Error) => callback(error, undefined as unknown as Duplex),
    );
  };
  const Base = url.protocol === "https:" ? HttpsAgent : HttpAgent;
  return new (class extends Base {
    // The callback form: the socket arrives once the tunnel's channel is open.
    createConnection(_options: unknown, callback?: (error: Error | null, stream: Duplex) => void): undefined {
      if (callback) open(callback);
      return undefined;
    }
  })({ keepAlive: false }) as HttpAgent;
}

/** A probe's whole time, from connecting to the last byte of the answer (not an idle timeout: a trickling server ends too). */
const PROBE_SECONDS = 10;

/** One request; resolves with the status code, rejects on connection or TLS errors or when `deadlineMs` passes. */
export function probe(check: HealthCheck, tunnel?: Tunnel, deadlineMs = PROBE_SECONDS * 1000): Promise<ProbeResult> {
  const url = new URL(check.url);
  const send = url.protocol === "https:" ? request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: "GET",
        // A fresh connection each time: a kept-alive one may belong to a worker from before the change.
        agent: tunnel ? tunnelAgent(check, url, tunnel) : false,
        ...(url.protocol === "https:" ? tlsOptions(check) : {}),
      },
      (response) => {
        // IIS puts the substatus (403.16...) only in its error page; read a little of the body to find it.
        let body = "";
        response.setEncoding("latin1");
        response.on("data", (chunk: string) => {
          if (body.length < 64 * 1024) body += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, substatus: iisSubstatus(response.statusCode ?? 0, body) }));
      },
    );
    const deadline = setTimeout(() => {
      reject(new Error(`no complete response within ${Math.round(deadlineMs / 100) / 10} s`));
      req.destroy();
    }, deadlineMs);
    req.on("close", () => clearTimeout(deadline));
    req.on("error", reject);
    req.end();
  });
}

/** Poll until the expected status or the timeout; the error says what was expected and what came back. */
export async function runHealthCheck(check: HealthCheck, label: string, tunnel?: Tunnel): Promise<HealthResult> {
  const started = Date.now();
  let attempts = 0;
  let last = "no attempt";
  while (true) {
    attempts++;
    try {
      const remainingMs = check.timeoutSeconds * 1000 - (Date.now() - started);
      const { status, substatus } = await probe(check, tunnel, Math.max(1, Math.min(PROBE_SECONDS * 1000, remainingMs)));
      if (status === check.expectStatus) return { status, attempts, elapsedSeconds: (Date.now() - started) / 1000 };
      last = substatus ? `HTTP ${substatus} (${IIS_SUBSTATUS[substatus]})` : status === 403 ? `HTTP 403 ${UNNAMED_403}` : `HTTP ${status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() - started + check.intervalSeconds * 1000 > check.timeoutSeconds * 1000) {
      throw new Error(
        `${label}: health check ${check.url} expected HTTP ${check.expectStatus} but got ${last} ` +
          `(${attempts} attempts in ${Math.round((Date.now() - started) / 1000)} s)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, check.intervalSeconds * 1000));
  }
}
