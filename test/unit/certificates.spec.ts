import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  CertificateInputError,
  normalizeThumbprint,
  parseCertificateIdentities,
  parseCertificates,
  requireRoots,
  splitByKind,
} from "../../components/certificates";
import { opensslFacts, TestCertificate, TestPki } from "../support/pki";

describe("certificates", function () {
  this.timeout(60_000);
  const pki = new TestPki();
  let rsaRoot: TestCertificate;
  let ecRoot: TestCertificate;
  let intermediate: TestCertificate;
  let leaf: TestCertificate;

  before(() => {
    rsaRoot = pki.root("rsa-root", "/C=US/O=Contoso/CN=Contoso Root CA G2");
    ecRoot = pki.root("ec-root", "/O=Fabrikam/CN=Fabrikam EC Root", { key: "ec384", digest: "sha384" });
    intermediate = pki.issue("issuing", "/O=Contoso/CN=Contoso Issuing CA", rsaRoot, { ca: true });
    leaf = pki.issue("leaf", "/CN=web01.contoso.test", intermediate, { san: "DNS:web01.contoso.test" });
  });

  describe("reading whole stores", () => {
    it("a bundle read twice is split once: the same frozen records and DER buffers, equal to a fresh parse", () => {
      const bundle = Buffer.from(rsaRoot.pem + ecRoot.pem + intermediate.pem);
      const first = parseCertificateIdentities(bundle, { name: "bundle" });
      const again = parseCertificateIdentities(Buffer.from(bundle), { name: "another host's bundle" });
      assert.deepEqual(first.map((certificate) => certificate.sha256), [rsaRoot, ecRoot, intermediate].map((fixture) => opensslFacts(fixture.certPath).sha256));
      assert.notEqual(again, first, "each caller gets its own array");
      again.forEach((certificate, index) => assert.equal(certificate, first[index]));
      assert.ok(Object.isFrozen(first[0]));
      // One byte more is another input: never answered from the cache of the first.
      const other = parseCertificateIdentities(Buffer.from(rsaRoot.pem + ecRoot.pem), { name: "bundle" });
      assert.deepEqual(other.map((certificate) => certificate.sha256), first.slice(0, 2).map((certificate) => certificate.sha256));
    });

    it("node-forge is not loaded by the modules a scan runs, and loads on first use", () => {
      const dist = (path: string) => JSON.stringify(require.resolve(`../../components/${path}`));
      const loaded = execFileSync(
        process.execPath,
        ["-e", `for (const m of [${dist("scan/scan")}, ${dist("platforms")}, ${dist("cli/inputs")}]) require(m);
const forge = () => Object.keys(require.cache).some((file) => file.includes("/node_modules/node-forge/"));
const before = forge();
require(${dist("certificates/forge")}).nodeForge().asn1.fromDer;
process.stdout.write(JSON.stringify({ before, after: forge() }));`],
        { encoding: "utf8" },
      );
      assert.deepEqual(JSON.parse(loaded), { before: false, after: true });
    });
  });

  describe("parseCertificates checked against openssl x509", () => {
    for (const name of ["rsaRoot", "ecRoot", "intermediate", "leaf"] as const) {
      it(`reads every field of ${name}`, () => {
        const fixture = { rsaRoot, ecRoot, intermediate, leaf }[name];
        const [certificate] = parseCertificates(fixture.pem, { name });
        const facts = opensslFacts(fixture.certPath);
        assert.equal(certificate.sha1, facts.sha1);
        assert.equal(certificate.sha256, facts.sha256);
        assert.equal(certificate.serial.replace(/^0+/, ""), facts.serial.replace(/^0+/, ""));
        assert.equal(certificate.notBefore, facts.notBefore);
        assert.equal(certificate.notAfter, facts.notAfter);
        assert.equal(certificate.isCA, facts.isCA);
        // Names as openssl prints them in RFC 2253 form; ours separates the parts with ", ".
        assert.equal(certificate.subject.replace(/, /g, ","), facts.subject);
        assert.equal(certificate.issuer.replace(/, /g, ","), facts.issuer);
        assert.equal({ rsa: "rsaEncryption", ec: "id-ecPublicKey" }[certificate.keyAlgorithm as string], facts.keyAlgorithm);
        assert.equal(certificate.keySize, facts.keyBits);
        assert.equal(certificate.signatureAlgorithm, facts.signatureAlgorithm);
        assert.equal(certificate.der.toString("base64"), pki.der(fixture).toString("base64"));
      });
    }

    it("names, key and signature of an RSA root", () => {
      const [root] = parseCertificates(rsaRoot.pem);
      assert.equal(root.subject, "CN=Contoso Root CA G2, O=Contoso, C=US");
      assert.equal(root.issuer, root.subject);
      assert.equal(root.commonName, "Contoso Root CA G2");
      assert.deepEqual([root.kind, root.selfSigned, root.isCA], ["root", true, true]);
      assert.deepEqual([root.keyAlgorithm, root.keySize, root.signatureAlgorithm], ["rsa", 2048, "sha256WithRSAEncryption"]);
    });

    it("key and signature of an EC P-384 root", () => {
      const [root] = parseCertificates(ecRoot.pem);
      assert.deepEqual([root.keyAlgorithm, root.keySize, root.signatureAlgorithm], ["ec", 384, "ecdsa-with-SHA384"]);
      assert.equal(root.kind, "root");
    });

    it("tells intermediates and leaves from roots", () => {
      const [issuing] = parseCertificates(intermediate.pem);
      const [server] = parseCertificates(leaf.pem);
      assert.deepEqual([issuing.kind, issuing.selfSigned, issuing.isCA], ["intermediate", false, true]);
      assert.deepEqual([server.kind, server.isCA], ["leaf", false]);
      assert.equal(issuing.issuer, "CN=Contoso Root CA G2, O=Contoso, C=US");
    });

    it("re-encodes PEM from the DER, never echoing the caller's text", () => {
      const [root] = parseCertificates(`Bag Attributes\n    friendlyName: x\n${rsaRoot.pem}`);
      assert.equal(root.pem, rsaRoot.pem.replace(/\r\n/g, "\n"));
    });
  });

  describe("input shapes", () => {
    it("many PEM blocks with CRLF, a BOM and openssl pkcs12 text around them", () => {
      const decorated = [rsaRoot, ecRoot]
        .map((c) => `Bag Attributes\r\n    localKeyID: 01 00 00 00\r\nsubject=/CN=x\r\nissuer=/CN=x\r\n${c.pem.replace(/\n/g, "\r\n")}`)
        .join("\r\n");
      const certificates = parseCertificates(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(decorated)]));
      assert.deepEqual(
        certificates.map((c) => c.commonName),
        ["Contoso Root CA G2", "Fabrikam EC Root"],
      );
    });

    it("DER", () => {
      const [root] = parseCertificates(pki.der(rsaRoot));
      assert.equal(root.sha1, opensslFacts(rsaRoot.certPath).sha1);
    });

    it("bare base64 of DER without PEM armour", () => {
      const [root] = parseCertificates(pki.der(ecRoot).toString("base64").replace(/(.{76})/g, "$1\n"));
      assert.equal(root.commonName, "Fabrikam EC Root");
    });

    for (const form of ["DER", "PEM"] as const) {
      it(`PKCS#7 chain in ${form} with an EC and an RSA certificate`, () => {
        const path = pki.pkcs7(`chain-${form}`, [rsaRoot, intermediate, ecRoot], form);
        const certificates = parseCertificates(readFileSync(path), { name: path });
        assert.deepEqual(
          certificates.map((c) => c.sha256),
          [rsaRoot, intermediate, ecRoot].map((c) => opensslFacts(c.certPath).sha256),
        );
      });
    }

    it("the Microsoft CA's base64 certnew.p7b, which labels PKCS#7 as CERTIFICATE", () => {
      const path = pki.pkcs7("certnew", [rsaRoot, intermediate], "PEM");
      const relabelled = readFileSync(path, "utf8").replace(/PKCS7/g, "CERTIFICATE");
      assert.equal(parseCertificates(relabelled).length, 2);
    });

    it("OpenSSL TRUSTED CERTIFICATE blocks", () => {
      const trusted = execFileSync("openssl", ["x509", "-in", rsaRoot.certPath, "-trustout", "-addtrust", "clientAuth"], { encoding: "utf8" });
      assert.match(trusted, /BEGIN TRUSTED CERTIFICATE/);
      assert.equal(parseCertificates(trusted)[0].sha1, opensslFacts(rsaRoot.certPath).sha1);
    });
  });

  describe("malformed input names the input and the reason", () => {
    const rejects = (input: Buffer | string, pattern: RegExp) => {
      assert.throws(
        () => parseCertificates(input, { name: "roots/contoso.pem" }),
        (error: unknown) =>
          error instanceof CertificateInputError && error.message.startsWith("roots/contoso.pem: ") && pattern.test(error.message),
      );
    };

    it("an empty file", () => rejects("", /is empty/));
    it("a truncated PEM", () => rejects(rsaRoot.pem.slice(0, 300), /no matching END line \(truncated\?\)/));
    it("a truncated block followed by a good one", () =>
      rejects(rsaRoot.pem.slice(0, 300) + "\n" + ecRoot.pem, /no END line before the next block/));
    it("wrong base64", () => rejects(rsaRoot.pem.replace(/^(MII.{10})./m, "$1!"), /invalid base64: character "!"/));
    it("base64 cut short inside a block", () =>
      rejects(rsaRoot.pem.replace(/\n[^\n]*\n-----END/, "\nAAA\n-----END"), /invalid base64|cannot be read|neither an X.509/));
    it("a private key block", () => rejects(rsaRoot.pem + readFileSync(rsaRoot.keyPath, "utf8"), /private key.*remove that block/));
    it("a certificate request", () =>
      rejects("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", /only CERTIFICATE and PKCS7/));
    it("DER that is not a certificate", () => rejects(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]), /neither an X.509 certificate nor PKCS#7/));
    it("PKCS#7 with no certificates", () => {
      const empty = execFileSync("openssl", ["crl2pkcs7", "-nocrl", "-outform", "DER"], { input: "" });
      rejects(empty, /PKCS#7 file that holds no certificates/);
    });
    it("a 10 MB garbage file", () => {
      const garbage = randomBytes(10 * 1024 * 1024);
      garbage[0] = 0x42;
      rejects(garbage, /is not a certificate/);
    });
    it("10 MB of garbage that starts like DER", () => {
      const garbage = randomBytes(10 * 1024 * 1024);
      garbage[0] = 0x30;
      rejects(garbage, /neither an X.509 certificate nor PKCS#7/);
    });
  });

  describe("roots vs intermediates", () => {
    it("splits a mixed bundle by kind", () => {
      const byKind = splitByKind(parseCertificates(rsaRoot.pem + intermediate.pem + leaf.pem + ecRoot.pem));
      assert.deepEqual(
        [byKind.roots.length, byKind.intermediates.length, byKind.leaves.length],
        [2, 1, 1],
      );
    });

    it("refuses a root-store bundle holding an intermediate, naming it", () => {
      const bundle = parseCertificates(rsaRoot.pem + intermediate.pem);
      assert.throws(
        () => requireRoots(bundle, "groups.web.roots"),
        /groups\.web\.roots: .*"CN=Contoso Issuing CA, O=Contoso" \(SHA-1 [0-9A-F]{40}\) is an intermediate CA.*'CA'/s,
      );
    });

    it("refuses a leaf", () => {
      assert.throws(() => requireRoots(parseCertificates(leaf.pem), "x"), /not a CA certificate/);
    });

    it("passes a roots-only bundle through", () => {
      assert.equal(requireRoots(parseCertificates(rsaRoot.pem + ecRoot.pem), "x").length, 2);
    });
  });

  describe("normalizeThumbprint", () => {
    const sha1 = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678";
    it("accepts spaces, colons, lower case and certmgr's invisible U+200E", () => {
      assert.equal(normalizeThumbprint("\u200ea1 b2 c3 d4 e5 f6 07 18 29 3a 4b 5c 6d 7e 8f 90 12 34 56 78"), sha1);
      assert.equal(normalizeThumbprint("A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:12:34:56:78"), sha1);
      assert.equal(normalizeThumbprint(" " + "ab".repeat(32) + "\n"), "AB".repeat(32));
    });

    it("rejects other lengths and non-hex, showing the input", () => {
      assert.throws(() => normalizeThumbprint("abc"), /thumbprint "abc" is not a SHA-1/);
      assert.throws(() => normalizeThumbprint("zz".repeat(20)), /"zzzz/);
      assert.throws(() => normalizeThumbprint("ab".repeat(21)), /40 hex digits/);
      assert.throws(() => normalizeThumbprint("\u200e12"), /"\u200e12"/);
    });
  });
});
