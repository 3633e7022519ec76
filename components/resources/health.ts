import { request } from "node:https";
import { request as httpRequest } from "node:http";
import { z } from "zod";

/** An HTTP(S) request that proves the fix: typically the web server, presenting a client certificate. */
export const healthCheckSchema = z.object({
  url: z.string().url("must be an http:// or https:// URL"),
  expectStatus: z.number().int().min(100).max(599).default(200),
  /** PEM certificate and key presented as the TLS client (the symptom of a lost root is its rejection). */
  clientCertificate: z.object({ cert: z.string(), key: z.string() }).optional(),
  /** PEM of the CA that issued the server's certificate, when it is not publicly trusted. */
  caCertificate: z.string().optional(),
  insecureSkipTlsVerify: z.boolean().default(false),
  timeoutSeconds: z.number().positive().default(120),
  intervalSeconds: z.number().positive().default(2),
});
export type HealthCheckInput = z.input<typeof healthCheckSchema>;
export type HealthCheck = z.output<typeof healthCheckSchema>;

export interface HealthResult {
  status: number;
  attempts: number;
  elapsedSeconds: number;
}

/** One request; resolves with the status code, rejects on connection or TLS errors. */
export function probe(check: HealthCheck): Promise<number> {
  const url = new URL(check.url);
  const send = url.protocol === "https:" ? request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: "GET",
        timeout: 10_000,
        // A fresh connection each time: a kept-alive one may belong to a worker from before the change.
        agent: false,
        ...(url.protocol === "https:"
          ? {
              cert: check.clientCertificate?.cert,
              key: check.clientCertificate?.key,
              ca: check.caCertificate,
              rejectUnauthorized: !check.insecureSkipTlsVerify,
            }
          : {}),
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      },
    );
    req.on("timeout", () => req.destroy(new Error("no response within 10 s")));
    req.on("error", reject);
    req.end();
  });
}

/** Poll until the expected status or the timeout; the error says what was expected and what came back. */
export async function runHealthCheck(check: HealthCheck, label: string): Promise<HealthResult> {
  const started = Date.now();
  let attempts = 0;
  let last = "no attempt";
  while (true) {
    attempts++;
    try {
      const status = await probe(check);
      if (status === check.expectStatus) return { status, attempts, elapsedSeconds: (Date.now() - started) / 1000 };
      last = `HTTP ${status}`;
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
