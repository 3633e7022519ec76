import { strict as assert } from "node:assert";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { FleetConfigError, parseFleetConfig } from "../../components/config/load";
import { parseCertificates } from "../../components/certificates";
import { TrustedRootsProvider } from "../../components/provider/provider";
import { fetchRoots } from "../../components/sources";
import { redactUrlCredentials } from "../../components/sources/redact";
import { FETCH_ROOTS_FUNCTION, PACKAGE_VERSION } from "../../components/typeTokens";
import { parseCertificates as parseAny } from "../../components/certificates/parse";
import { MAX_SOURCE_BYTES } from "../../components/sources/fetch";
import { MAX_LDAP_ENTRIES } from "../../components/sources/ldap";
import { MAX_CERTSRV_RENEWALS } from "../../components/sources/remote";
import { runHealthCheck } from "../../components/resources/health";
import { hostileDirectory } from "../support/hostileLdap";
import { TestPki } from "../support/pki";

// Sources an attacker may control or sit in front of: what this tool refuses before any connection, and what
// never reaches a message.
describe("hostile and careless sources", () => {
  const pki = new TestPki();
  const root = parseCertificates(pki.root("hostile", "/CN=Hostile Sources Root").pem)[0];
  const server = { name: "web01", host: "10.0.0.5", platform: "debian", hostKey: "SHA256:" + "A".repeat(43) };
  const base = "CN=Certification Authorities,CN=Public Key Services,CN=Services,CN=Configuration,DC=contoso,DC=com";

  const configProblems = (rootSets: Record<string, unknown>): string[] => {
    try {
      parseFleetConfig({ servers: [server], rootSets });
    } catch (error) {
      if (error instanceof FleetConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  /** A TCP listener that counts connections: proof that a refusal came before any. */
  async function countingListener(): Promise<{ url: (scheme: string) => string; connections: () => number; close: () => void }> {
    const sockets: Socket[] = [];
    const listener: Server = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const port = (listener.address() as AddressInfo).port;
    return {
      url: (scheme) => `${scheme}://127.0.0.1:${port}`,
      connections: () => sockets.length,
      close: () => {
        sockets.forEach((socket) => socket.destroy());
        listener.close();
      },
    };
  }

  describe("a cleartext LDAP bind", () => {
    it("is refused by the config check, naming ldaps:// and startTls; anonymous ldap://, ldaps:// and StartTLS pass", () => {
      const set = (ldap: object) => ({ a: { ldap: { base, ...ldap }, thumbprints: [root.sha256] } });
      assert.deepEqual(configProblems(set({ url: "ldap://dc01", bindDn: "cn=reader" })), [
        "trusted-roots:rootSets.a.ldap.bindDn: a bind over ldap:// without startTls sends the password in clear text; use ldaps://host (port 636) or set startTls: true",
      ]);
      assert.deepEqual(configProblems(set({ url: "LDAP://dc01:389", bindDn: "cn=reader", startTls: false })).length, 1);
      for (const fine of [{ url: "ldap://dc01" }, { url: "ldaps://dc01", bindDn: "cn=reader" }, { url: "ldap://dc01", bindDn: "cn=reader", startTls: true }]) {
        assert.deepEqual(configProblems(set(fine)), [], JSON.stringify(fine));
      }
    });

    it("is refused by fetchRoots and the fetchRoots function before any connection reaches the directory", async () => {
      const directory = await countingListener();
      try {
        const ldap = { url: directory.url("ldap"), base, bindDn: "cn=reader" };
        await assert.rejects(
          fetchRoots({ source: { kind: "ldap", ...ldap }, thumbprints: [root.sha256], ldapPassword: "hunter2" }),
          /a bind over ldap:\/\/ without startTls sends the password in clear text/,
        );
        const invoked = await new TrustedRootsProvider(PACKAGE_VERSION, "{}").invoke(FETCH_ROOTS_FUNCTION, { ldap, ldapPassword: "hunter2", thumbprints: [root.sha256] });
        assert.deepEqual(invoked.failures?.map((failure) => failure.property), ["ldap.bindDn"]);
        assert.equal(directory.connections(), 0, "nothing may connect before the refusal");
      } finally {
        directory.close();
      }
    });
  });

  describe("proxy credentials", () => {
    it("in a plain proxy URL (config or function input) are refused, and the message does not repeat them", async () => {
      const problems = configProblems({ a: { url: "http://pki/r.crt", thumbprints: [root.sha256], fetch: { proxy: "http://alice:hunter2@proxy:3128" } } });
      assert.deepEqual(problems, [
        "trusted-roots:rootSets.a.fetch.proxy: must not carry credentials (user:password@): plain config is stored and shown in clear; give the proxy as http://proxy.corp:3128 and its user:password as the secret proxyCredentials (pulumi config set --secret trusted-roots:proxyCredentials)",
      ]);
      const invoked = await new TrustedRootsProvider(PACKAGE_VERSION, "{}").invoke(FETCH_ROOTS_FUNCTION, { url: "http://pki/r.crt", proxy: "http://alice:hunter2@proxy:3128", thumbprints: [root.sha256] });
      assert.deepEqual(invoked.failures?.map((failure) => failure.property), ["proxy"]);
      assert.equal(JSON.stringify(invoked.failures).includes("hunter2"), false);
      assert.deepEqual(configProblems({ a: { url: "http://bob:pw@pki/r.crt", thumbprints: [root.sha256] } }).map((problem) => problem.split(":")[1]), ["rootSets.a.url"]);
    });

    it("redaction replaces the login of every URL in a text, and leaves other @ signs alone", () => {
      assert.equal(
        redactUrlCredentials("http://alice:hunter2@proxy:3128 and HTTPS://x@y/z, mail admin@contoso.com"),
        "http://***@proxy:3128 and HTTPS://***@y/z, mail admin@contoso.com",
      );
    });

    it("a library caller's proxy URL with a login: a failure names the proxy without it", async () => {
      const closed = await countingListener();
      closed.close();
      const proxy = closed.url("http").replace("//", "//alice:hunter2@");
      await assert.rejects(fetchRoots({ source: { kind: "url", url: "http://pki.invalid/r.crt" }, thumbprints: [root.sha256], fetch: { proxy } }), (error: Error) => {
        assert.match(error.message, /cannot be reached through the proxy http:\/\/\*\*\*@127\.0\.0\.1:\d+/);
        assert.equal(error.message.includes("hunter2"), false, error.message);
        return true;
      });
    });

    it("the secret proxyCredentials reaches a proxy that demands a login (407 without it, with a hint)", async () => {
      const seen: (string | undefined)[] = [];
      // A forward proxy for plain http sources: it answers the absolute-URI request itself.
      const proxy = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
        seen.push(request.headers["proxy-authorization"]);
        if (request.headers["proxy-authorization"] !== `Basic ${Buffer.from("alice:s3cret:with:colons").toString("base64")}`) {
          response.writeHead(407, { "proxy-authenticate": 'Basic realm="corp"' }).end();
          return;
        }
        response.end(root.pem);
      });
      await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
      try {
        const settings = { proxy: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` };
        const source = { kind: "url" as const, url: "http://pki.invalid/root.pem" };
        await assert.rejects(fetchRoots({ source, thumbprints: [root.sha256], fetch: settings }), /HTTP 407\): the proxy wants a login: set its user:password as the secret proxyCredentials/);
        const fetched = await fetchRoots({ source, thumbprints: [root.sha256], fetch: { ...settings, proxyCredentials: "alice:s3cret:with:colons" } });
        assert.equal(fetched.certificates[0].sha256, root.sha256);
        assert.equal(seen.length, 2);
      } finally {
        proxy.close();
      }
    });
  });

  describe("denial of service by a hostile or intercepted source", function () {
    // Generous: a step that never ends (the defect) fails here, whatever the machine's speed.
    this.timeout(120_000);

    const refusal = (text: string) => assert.throws(() => parseAny(text, { name: "hostile" }), /hostile: a '-----BEGIN' at line 1 has no matching END line/);

    it("BEGIN lines without END, 4 MB of them (the fetch cap): refused at the first, in one pass", () => {
      // No timing: the quadratic scanner this replaced needed minutes for this input (1.55 s at 200 KB), far beyond
      // this suite's limit on any machine; one pass takes a fraction of a second even on a slow one.
      const line = "-----BEGIN CERTIFICATE-----\n";
      refusal(line.repeat(Math.floor(MAX_SOURCE_BYTES / line.length)));
      // Labels that never close ("-----BEGIN X" without its dashes) take the same single pass.
      const unclosed = "-----BEGIN X\n";
      refusal(unclosed.repeat(Math.floor(MAX_SOURCE_BYTES / unclosed.length)));
    });

    it("a certsrv page declaring a million renewals is refused before any renewal is asked", async () => {
      const asked: string[] = [];
      const site = createHttpServer((request, response) => {
        asked.push(request.url ?? "");
        response.end(request.url?.endsWith("certcarc.asp") ? "<script>var nRenewals=1000000;</script>" : root.pem);
      });
      await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
      try {
        const certsrv = `http://127.0.0.1:${(site.address() as AddressInfo).port}/certsrv`;
        await assert.rejects(fetchRoots({ source: { kind: "certsrv", url: certsrv }, thumbprints: [root.sha256] }), new RegExp(`declares 1000000 CA renewals; .* more than ${MAX_CERTSRV_RENEWALS} is not a CA's history`));
        assert.deepEqual(asked, ["/certsrv/certcarc.asp"]);
      } finally {
        site.close();
      }
    });

    it("a directory that answers more entries than any CA container holds is refused", async () => {
      const directory = await hostileDirectory(MAX_LDAP_ENTRIES + 50, root.der);
      try {
        await assert.rejects(
          fetchRoots({ source: { kind: "ldap", url: directory.url, base: "cn=Certification Authorities" }, thumbprints: [root.sha256] }),
          new RegExp(`answered more than ${MAX_LDAP_ENTRIES} entries with a cACertificate; narrow base`),
        );
      } finally {
        directory.close();
      }
    });

    it("a directory that sends without end is cut off after the byte cap, not read to exhaustion", async () => {
      // 64 entries of 1 MB each: 16 times the cap.
      const directory = await hostileDirectory(64, Buffer.alloc(1024 * 1024, 0x41));
      try {
        await assert.rejects(
          fetchRoots({ source: { kind: "ldap", url: directory.url, base: "cn=Certification Authorities" }, thumbprints: [root.sha256] }),
          new RegExp(`the answer is larger than ${MAX_SOURCE_BYTES} bytes`),
        );
        assert.ok(directory.bytesWritten() < 64 * 1024 * 1024, `the directory wrote ${directory.bytesWritten()} bytes`);
      } finally {
        directory.close();
      }
    });

    it("a health check against a server that trickles its answer ends at the check's timeout", async () => {
      const trickles: NodeJS.Timeout[] = [];
      const web = createHttpServer((_request, response) => {
        response.writeHead(200, { "content-type": "text/plain" });
        // One byte every 100 ms: an idle timeout never fires; only a deadline ends this.
        trickles.push(setInterval(() => response.write("."), 100));
      });
      await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
      try {
        const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}/`;
        await assert.rejects(
          runHealthCheck({ url, expectStatus: 200, timeoutSeconds: 1, intervalSeconds: 1, insecureSkipTlsVerify: false }, "web01"),
          /web01: health check .* expected HTTP 200 but got no complete response within 1 s \(1 attempts/,
        );
      } finally {
        trickles.forEach((trickle) => clearInterval(trickle));
        web.closeAllConnections();
        web.close();
      }
    });
  });
});
