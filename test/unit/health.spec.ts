import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { forPlatform, healthCheckSchema, iisSubstatus, runHealthCheck } from "../../components/resources/health";
import { TestPki } from "../support/pki";

/**
 * A TLS server that answers as IIS does for client certificates (403.7 none offered, 403.16 untrusted) and
 * records the TLS version each connection negotiated. (IIS's SslNegotiateCert asks for the certificate by
 * renegotiation, which TLS 1.3 removed; Node's own server-side renegotiation does not deliver a client
 * certificate to check that end to end, so the test proves the version the check offers.)
 */
describe("health check: the TLS version it offers, and IIS's client-certificate answers by name", function () {
  this.timeout(60_000);
  const pki = new TestPki();
  const ca = pki.root("health-ca", "/CN=Health CA");
  const serverCert = pki.issue("health-server", "/CN=localhost", ca, { san: "DNS:localhost,IP:127.0.0.1" });
  const trustedClient = pki.issue("health-client", "/CN=client", ca);
  const strangerCa = pki.root("stranger-ca", "/CN=Stranger CA");
  const strangerClient = pki.issue("stranger-client", "/CN=stranger", strangerCa);
  const protocols: string[] = [];
  let server: Server;
  let url: string;

  before(async () => {
    server = createServer({ key: readFileSync(serverCert.keyPath), cert: serverCert.pem, ca: ca.pem, requestCert: true, rejectUnauthorized: false }, (request, response) => {
      const socket = request.socket as TLSSocket;
      protocols.push(String(socket.getProtocol()));
      const peer = socket.getPeerCertificate();
      if (!peer || !peer.subject) response.writeHead(403).end("<h2>403 - Forbidden: Access is denied.</h2><h3>HTTP Error 403.7 - Forbidden</h3>");
      else if (!socket.authorized) response.writeHead(403).end("<h3>HTTP Error 403.16 - Forbidden</h3><p>Your client certificate is either not trusted or is invalid.</p>");
      else response.writeHead(200).end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  after(() => server.close());

  const check = (client: { pem: string; keyPath: string }, tlsVersion?: "1.2" | "1.3") =>
    healthCheckSchema.parse({
      url,
      caCertificate: ca.pem,
      clientCertificate: { cert: client.pem, key: readFileSync(client.keyPath, "utf8") },
      timeoutSeconds: 1,
      intervalSeconds: 0.2,
      ...(tlsVersion ? { tlsVersion } : {}),
    });

  it("offers at most TLS 1.2 when told to (sites that renegotiate for the certificate), TLS 1.3 by default", async () => {
    protocols.length = 0;
    assert.equal((await runHealthCheck(check(trustedClient, "1.2"), "iis01")).status, 200);
    assert.equal((await runHealthCheck(check(trustedClient), "iis01")).status, 200);
    assert.deepEqual(protocols, ["TLSv1.2", "TLSv1.3"]);
  });

  it("against a Windows server an unset version offers TLS 1.2 (IIS cannot renegotiate under 1.3); a set one is kept", async () => {
    protocols.length = 0;
    assert.equal((await runHealthCheck(forPlatform(check(trustedClient), "windows"), "iis01")).status, 200);
    assert.equal((await runHealthCheck(forPlatform(check(trustedClient, "1.3"), "windows"), "iis01")).status, 200);
    assert.equal((await runHealthCheck(forPlatform(check(trustedClient), "debian"), "web01")).status, 200);
    assert.deepEqual(protocols, ["TLSv1.2", "TLSv1.3", "TLSv1.3"]);
  });

  it("a 403 without a substatus says where IIS keeps it (detailed errors go to local clients only)", async () => {
    const plain = createServer({ key: readFileSync(serverCert.keyPath), cert: serverCert.pem }, (_request, response) => response.writeHead(403).end("<h2>403 - Forbidden: Access is denied.</h2>"));
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    try {
      const remote = healthCheckSchema.parse({ url: `https://127.0.0.1:${(plain.address() as AddressInfo).port}/`, caCertificate: ca.pem, timeoutSeconds: 1, intervalSeconds: 0.2 });
      await assert.rejects(runHealthCheck(remote, "iis01"), /got HTTP 403 \(no substatus in the answer: IIS names 403\.7\/403\.16.*only in detailed errors.*sc-substatus/);
    } finally {
      plain.close();
    }
  });

  it("names IIS's 403.16 (untrusted) and 403.7 (no certificate) in the error", async () => {
    await assert.rejects(runHealthCheck(check(strangerClient, "1.2"), "iis01"), /HTTP 403\.16 \(client certificate untrusted or invalid: its root is not in the server's Trusted Root store/);
    const withoutCertificate = healthCheckSchema.parse({ url, caCertificate: ca.pem, timeoutSeconds: 1, intervalSeconds: 0.2 });
    await assert.rejects(runHealthCheck(withoutCertificate, "iis01"), /expected HTTP 200 but got HTTP 403\.7 \(client certificate required/);
  });

  it("substatus names only from the matching status, and only whole codes", () => {
    assert.equal(iisSubstatus(403, "HTTP Error 403.13 - Forbidden"), "403.13");
    assert.equal(iisSubstatus(500, "HTTP Error 403.16"), undefined);
    assert.equal(iisSubstatus(403, "error 403.160"), undefined);
  });
});
