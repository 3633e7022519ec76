import { strict as assert } from "node:assert";
import { createServer } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { parseCertificates } from "../../components/certificates";
import { fetchRoots } from "../../components/sources";
import { certificatesInAnswer, certsrvChainUrl, certsrvRenewalsPage, parseRenewalCount, preview, selectPinned } from "../../components/sources/remote";
import { TestPki } from "../support/pki";

describe("root sources (the pure part: certsrv addresses, answers, pins)", () => {
  const pki = new TestPki();
  const old = parseCertificates(pki.root("old", "/CN=Contoso Root CA").pem)[0];
  const renewed = parseCertificates(pki.root("new", "/CN=Contoso Root CA").pem)[0];

  it("certsrv: the renewals page and each renewal's chain, with or without a trailing slash", () => {
    assert.equal(certsrvRenewalsPage("http://ca01/certsrv/"), "http://ca01/certsrv/certcarc.asp");
    assert.equal(certsrvChainUrl("http://ca01/certsrv", 2), "http://ca01/certsrv/certnew.p7b?ReqID=CACert&Renewal=2&Enc=bin");
  });

  it("reads nRenewals from certcarc.asp; any other page says what it was", () => {
    assert.equal(parseRenewalCount("var nRenewals=3;\nvar sCAName='x';", "p"), 3);
    assert.equal(parseRenewalCount("nRenewals = 0 ;", "p"), 0);
    assert.throws(() => parseRenewalCount("<html>Access denied</html>", "http://ca01/certsrv/certcarc.asp"), /certcarc\.asp: not an AD CS web enrollment page \(no "nRenewals"\); it answered 26 byte\(s\) starting "<html>Access denied<\/html>"/);
  });

  it("an answer without certificates names its content type and first bytes, unprintable ones as dots", () => {
    assert.equal(preview(Buffer.from([0x3c, 0x00, 0xff, 0x41])), '4 byte(s) starting "<..A"');
    assert.throws(() => certificatesInAnswer(Buffer.from("<html>login</html>"), "src", "text/html"), /^Error: src: the answer holds no certificate \(content-type text\/html, 18 byte\(s\)/);
    assert.equal(certificatesInAnswer(old.der, "src", "")[0].sha256, old.sha256);
  });

  it("pins select: each pin must be found (SHA-1 or SHA-256); what is not pinned is left out", () => {
    const both = selectPinned([old, renewed], [renewed.sha1], "src");
    assert.deepEqual(both.used.map((c) => c.sha256), [renewed.sha256]);
    assert.deepEqual(both.leftOut.map((c) => c.sha256), [old.sha256]);
    assert.deepEqual(selectPinned([old, renewed], [old.sha256, old.sha1], "src").used.length, 1, "two pins of one certificate use it once");
    assert.throws(() => selectPinned([old], [renewed.sha256], "src"), (error: Error) => {
      assert.ok(error.message.startsWith(`src: no certificate it answered has the pinned thumbprint ${renewed.sha256}; it answered 1 certificate(s):`));
      assert.ok(error.message.includes(`SHA-256 ${old.sha256}`));
      return true;
    });
  });

  it("a directory that accepts the connection and never answers: the fetch ends at the timeout, saying so", async () => {
    const held: Socket[] = [];
    const silent = createTcpServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const url = `ldap://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      await assert.rejects(
        fetchRoots({ source: { kind: "ldap", url, base: "dc=test" }, thumbprints: [old.sha256], fetch: { timeoutSeconds: 1 } }),
        new RegExp(`^Error: ${url} \\(dc=test\\): no complete answer within 1 s \\(fetch\\.timeoutSeconds\\)$`),
      );
    } finally {
      held.forEach((socket) => socket.destroy());
      silent.close();
    }
  });

  it("a program must pin or say allowUnpinned; unpinned roots are marked so the policy refuses them", async () => {
    await assert.rejects(fetchRoots({ source: { kind: "url", url: "http://127.0.0.1:9/x.crt" }, thumbprints: [] }), /pin the thumbprint of each root you verified out of band/);
    const server = createServer((_request, response) => response.end(Buffer.concat([Buffer.from(old.pem), Buffer.from(renewed.pem)])));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/roots.pem`;
      const fetched = await fetchRoots({ source: { kind: "url", url }, thumbprints: [], allowUnpinned: true });
      assert.deepEqual(fetched.certificates.map((c) => [c.sha256, c.fetchedFrom]), [old, renewed].map((c) => [c.sha256, { url, pinned: false }]));
    } finally {
      server.close();
    }
  });

  it("each fetched root records which kind of pin selected it (the sha256-pins policy reads it)", async () => {
    const server = createServer((_request, response) => response.end(Buffer.concat([Buffer.from(old.pem), Buffer.from(renewed.pem)])));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/roots.pem`;
      const fetched = await fetchRoots({ source: { kind: "url", url }, thumbprints: [old.sha1, renewed.sha256] });
      assert.deepEqual(fetched.certificates.map((c) => [c.sha256, c.fetchedFrom.pinnedBy]), [[old.sha256, "SHA-1"], [renewed.sha256, "SHA-256"]]);
    } finally {
      server.close();
    }
  });
});
