import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { loadFleetArgs, parseFleetConfig } from "../../components/config/load";
import { fetchRoots, type FetchRootsOptions } from "../../components/sources";
import { describeLab, Lab, type LabHost } from "../support/lab";
import { TestPki, type TestCertificate } from "../support/pki";
import { waitUntil } from "../support/wait";

/**
 * The site a CA publishes its roots on, served by a lab host's real nginx: DER, PEM and PKCS#7 files, a
 * redirect, a trickling answer, a login page, an AD CS web enrollment site's two pages, and the same over HTTPS.
 */
// `machineAddress`, this machine's own on the lab bridge, is refused /private/: a site reachable only through a proxy.
function pkiSiteConfig(address: string, machineAddress: string): string {
  const refuseMachine = `if ($remote_addr = ${machineAddress}) { return 403; }`;
  return `
  server {
    listen ${address}:8080;
    root /srv/pki;
    default_type application/octet-stream;
    location = /moved.crt { return 302 /root.der; }
    location = /login.html { default_type text/html; }
    location /slow/ { limit_rate 1; }
    location /private/ { ${refuseMachine} }
    location = /certsrv/certcarc.asp { default_type text/html; }
    location = /certsrv/certnew.p7b { default_type application/x-pkcs7-certificates; try_files /certsrv/renewal-$arg_Renewal.p7b =404; }
  }
  server {
    listen ${address}:8443 ssl;
    ssl_certificate /etc/trl-lab/server.crt;
    ssl_certificate_key /etc/trl-lab/server.key;
    root /srv/pki;
    default_type application/octet-stream;
    location /private/ { ${refuseMachine} }
  }
}
`;
}

const LDAP_SUFFIX = "dc=contoso,dc=test";
const LDAP_ADMIN = `cn=admin,${LDAP_SUFFIX}`;
const LDAP_PASSWORD = "lab-directory-s3cret";
// Where AD publishes its enterprise roots, under a test suffix.
const CERTIFICATION_AUTHORITIES = `cn=Certification Authorities,cn=Public Key Services,cn=Services,cn=Configuration,${LDAP_SUFFIX}`;

/** A real slapd: the lab's server certificate for ldaps and StartTLS, reads only after a bind. */
const SLAPD_CONFIG = `include /etc/ldap/schema/core.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile /run/trl-slapd.pid
TLSCertificateFile /etc/trl-lab/server.crt
TLSCertificateKeyFile /etc/trl-lab/server.key
database mdb
maxsize 10485760
suffix "${LDAP_SUFFIX}"
rootdn "${LDAP_ADMIN}"
rootpw ${LDAP_PASSWORD}
directory /var/lib/trl-ldap
access to * by anonymous auth by * read
`;

/** The directory: AD's container chain down to Certification Authorities, one entry per CA with its cACertificate. */
function directoryLdif(cas: { name: string; der: Buffer }[]): string {
  const containers = ["cn=Configuration", "cn=Services", "cn=Public Key Services", "cn=Certification Authorities"];
  const entries = [`dn: ${LDAP_SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Contoso\ndc: contoso\n`];
  containers.forEach((_, index) => {
    const dn = [...containers.slice(0, index + 1)].reverse().join(",");
    entries.push(`dn: ${dn},${LDAP_SUFFIX}\nobjectClass: organizationalRole\ncn: ${containers[index].slice(3)}\n`);
  });
  for (const ca of cas) {
    entries.push(`dn: cn=${ca.name},${CERTIFICATION_AUTHORITIES}\nobjectClass: organizationalRole\nobjectClass: pkiCA\ncn: ${ca.name}\ncACertificate;binary:: ${ca.der.toString("base64")}\n`);
  }
  return entries.join("\n");
}

const TINYPROXY_CONFIG = (address: string) => `User nobody
Group nogroup
Port 3128
Listen ${address}
Timeout 60
MaxClients 20
Allow ${address.replace(/\.\d+$/, ".0")}/24
ConnectPort 8443
PidFile "/run/trl-tinyproxy.pid"
`;

describeLab("root sets fetched from where the CA publishes them (real nginx, real tinyproxy)", function () {
  this.timeout(300_000);
  let lab: Lab;
  let site: LabHost;
  let proxyHost: LabHost;
  let pki: TestPki;
  let oldRoot: TestCertificate;
  let newRoot: TestCertificate;
  let issuing: TestCertificate;
  let other: TestCertificate;
  const cert = (test: TestCertificate): Certificate => parseCertificates(test.pem)[0];
  const base = () => `http://${site.address}:8080`;
  const fetchFrom = (options: Partial<FetchRootsOptions> & Pick<FetchRootsOptions, "source">) => fetchRoots({ thumbprints: [cert(oldRoot).sha256], ...options });

  before(async () => {
    lab = await Lab.start(2);
    [site, proxyHost] = lab.hosts;
    pki = new TestPki();
    oldRoot = pki.root("contoso-2016", "/O=Contoso/CN=Contoso Root CA");
    newRoot = pki.root("contoso-2026", "/O=Contoso/CN=Contoso Root CA");
    issuing = pki.issue("contoso-issuing", "/O=Contoso/CN=Contoso Issuing CA 01", newRoot, { ca: true });
    other = pki.root("other", "/O=Mallory/CN=Contoso Root CA");
    const files: Record<string, Buffer | string> = {
      "root.der": pki.der(oldRoot),
      "root.pem": oldRoot.pem,
      "roots.p7b": readFileSync(pki.pkcs7("both", [oldRoot, newRoot], "DER")),
      "slow/root.der": pki.der(oldRoot),
      "private/root.der": pki.der(oldRoot),
      "wrong.crt": other.pem,
      "login.html": "<html><body>Sign in to continue</body></html>",
      "empty.crt": "",
      // AD CS web enrollment: certcarc.asp names the renewals; renewal 0 is the old root, 1 the issuing CA's chain to the new.
      "certsrv/certcarc.asp": "<script>\nvar nRenewals=1;\nvar sCAName='Contoso Issuing CA 01';\n</script>",
      "certsrv/renewal-0.p7b": readFileSync(pki.pkcs7("renewal-0", [oldRoot], "DER")),
      "certsrv/renewal-1.p7b": readFileSync(pki.pkcs7("renewal-1", [issuing, newRoot], "DER")),
      "login/certsrv/certcarc.asp": "<html>Sign in</html>",
    };
    for (const [path, content] of Object.entries(files)) {
      await lab.exec(site, "mkdir", "-p", join("/srv/pki", path, ".."));
      await lab.writeFile(site, join("/srv/pki", path), content);
    }
    await lab.sh(site, `sed -i '$ d' /etc/nginx/nginx.conf && cat >> /etc/nginx/nginx.conf <<'CONF'\n${pkiSiteConfig(site.address, lab.machineAddress)}CONF\nnginx -t 2>&1 && nginx -s reload`);
    await lab.writeFile(proxyHost, "/etc/trl-tinyproxy.conf", TINYPROXY_CONFIG(proxyHost.address));
    await lab.exec(proxyHost, "tinyproxy", "-c", "/etc/trl-tinyproxy.conf");
    await waitUntil(async () => (await fetch(`${base()}/root.pem`).catch(() => undefined))?.status === 200, "the PKI site answers");
  });

  after(async () => {
    await lab?.stop();
  });

  for (const file of ["root.der", "root.pem", "roots.p7b"]) {
    it(`a URL serving ${file}: the pinned root is used, nothing else`, async () => {
      const fetched = await fetchFrom({ source: { kind: "url", url: `${base()}/${file}` } });
      assert.deepEqual(fetched.certificates.map((certificate) => certificate.sha256), [cert(oldRoot).sha256]);
      assert.deepEqual(fetched.certificates[0].fetchedFrom, { url: `${base()}/${file}`, pinned: true, pinnedBy: "SHA-256" });
      assert.deepEqual(fetched.leftOut.map((certificate) => certificate.sha256), file === "roots.p7b" ? [cert(newRoot).sha256] : []);
    });
  }

  it("a redirect is followed; the pin decides, not the address", async () => {
    const fetched = await fetchFrom({ source: { kind: "url", url: `${base()}/moved.crt` } });
    assert.equal(fetched.certificates[0].sha256, cert(oldRoot).sha256);
  });

  it("a wrong certificate (same name, another key) fails, listing what came back beside the pin", async () => {
    const pin = cert(oldRoot).sha256;
    await assert.rejects(fetchFrom({ source: { kind: "url", url: `${base()}/wrong.crt` }, name: "rootSets.contoso.url" }), (error: Error) => {
      assert.match(error.message, new RegExp(`^rootSets\\.contoso\\.url \\(${base()}/wrong\\.crt\\): no certificate it answered has the pinned thumbprint ${pin}`));
      assert.ok(error.message.includes(`"CN=Contoso Root CA, O=Mallory"`), error.message);
      assert.ok(error.message.includes(cert(other).sha256), error.message);
      return true;
    });
  });

  it("a login page, an empty answer, a 404 and a closed port each say what happened", async () => {
    await assert.rejects(fetchFrom({ source: { kind: "url", url: `${base()}/login.html` } }), /login\.html: the answer holds no certificate \(content-type text\/html, 45 byte\(s\) starting "<html><body>Sign in/);
    await assert.rejects(fetchFrom({ source: { kind: "url", url: `${base()}/empty.crt` } }), /empty\.crt: answered HTTP 200 with an empty body/);
    await assert.rejects(fetchFrom({ source: { kind: "url", url: `${base()}/missing.crt` } }), /missing\.crt: answered HTTP 404 Not Found/);
    await assert.rejects(fetchFrom({ source: { kind: "url", url: `http://${site.address}:8099/root.der` } }), /:8099\/root\.der: cannot be reached: connect ECONNREFUSED/);
  });

  it("an answer that does not complete within the timeout fails the fetch (nginx sends 1 byte a second)", async () => {
    await assert.rejects(
      fetchFrom({ source: { kind: "url", url: `${base()}/slow/root.der` }, fetch: { timeoutSeconds: 1 } }),
      /slow\/root\.der: no complete answer within 1 s \(fetch\.timeoutSeconds\)/,
    );
  });

  it("HTTPS from a server whose CA is given in the CA bundle; without it the fetch is refused", async () => {
    const url = `https://${site.address}:8443/root.der`;
    const fetched = await fetchFrom({ source: { kind: "url", url }, fetch: { ca: lab.serverCa } });
    assert.equal(fetched.certificates[0].sha256, cert(oldRoot).sha256);
    await assert.rejects(fetchFrom({ source: { kind: "url", url } }), /its TLS certificate (is not issued by a CA this machine trusts|chains to a root this machine does not trust).*fetch\.caBundleFile/);
  });

  it("a proxy: the site refuses this machine, and answers through tinyproxy on another host (HTTP and CONNECT)", async () => {
    const proxy = `http://${proxyHost.address}:3128`;
    await assert.rejects(fetchFrom({ source: { kind: "url", url: `${base()}/private/root.der` } }), /answered HTTP 403/);
    const plain = await fetchFrom({ source: { kind: "url", url: `${base()}/private/root.der` }, fetch: { proxy } });
    assert.equal(plain.certificates[0].sha256, cert(oldRoot).sha256);
    const tunnelled = await fetchFrom({ source: { kind: "url", url: `https://${site.address}:8443/private/root.der` }, fetch: { proxy, ca: lab.serverCa } });
    assert.equal(tunnelled.certificates[0].sha256, cert(oldRoot).sha256);
    await assert.rejects(fetchFrom({ source: { kind: "url", url: `${base()}/root.der` }, fetch: { proxy: `http://${proxyHost.address}:3999` } }), new RegExp(`cannot be reached through the proxy http://${proxyHost.address.replace(/\./g, "\\.")}:3999`));
  });

  it("certsrv: every renewal's chain is asked; only pinned roots are used, a renewal not pinned yet is left out", async () => {
    const source = { kind: "certsrv" as const, url: `${base()}/certsrv/` };
    const both = await fetchRoots({ source, thumbprints: [cert(oldRoot).sha1, cert(newRoot).sha256] });
    assert.deepEqual(both.certificates.map((certificate) => certificate.sha256), [cert(oldRoot).sha256, cert(newRoot).sha256]);
    assert.deepEqual(both.asked, [`${base()}/certsrv/certcarc.asp`, `${base()}/certsrv/certnew.p7b?ReqID=CACert&Renewal=0&Enc=bin`, `${base()}/certsrv/certnew.p7b?ReqID=CACert&Renewal=1&Enc=bin`]);
    const onlyOld = await fetchRoots({ source, thumbprints: [cert(oldRoot).sha256] });
    assert.deepEqual(onlyOld.leftOut.map((certificate) => certificate.commonName).sort(), ["Contoso Issuing CA 01", "Contoso Root CA"]);
    await assert.rejects(fetchRoots({ source: { kind: "certsrv", url: `${base()}/login/certsrv` }, thumbprints: [cert(oldRoot).sha256] }), /certcarc\.asp: not an AD CS web enrollment page \(no "nRenewals"\); it answered 20 byte\(s\) starting "<html>Sign in<\/html>"/);
  });

  it("a stack config: fetched sets join the servers' roots; every failing source is named by its key and nothing is declared", async () => {
    const dir = pki.dir;
    writeFileSync(join(dir, "lab-ca.pem"), lab.serverCa);
    const config = (rootSets: Record<string, unknown>) =>
      parseFleetConfig({
        servers: [{ name: "web01", host: "10.0.0.5", platform: "debian", hostKey: site.hostKey, groups: ["web"] }],
        rootSets,
        groups: { web: { roots: Object.keys(rootSets) } },
      });
    const readFile = (path: string) => readFileSync(join(dir, path));
    const good = config({
      contoso: { certsrv: `${base()}/certsrv`, thumbprints: [cert(oldRoot).sha256, cert(newRoot).sha256] },
      tls: { url: `https://${site.address}:8443/root.der`, thumbprints: [cert(oldRoot).sha256], fetch: { caBundleFile: "lab-ca.pem" } },
    });
    const { args, leftOut } = await loadFleetArgs(good, { privateKey: "k" }, readFile);
    assert.deepEqual(args.servers[0].roots.map((root) => root.sha256).sort(), [cert(oldRoot).sha256, cert(newRoot).sha256].sort());
    assert.deepEqual([...leftOut.keys()], ["contoso"], "the issuing CA certsrv also answered is reported, not used");
    const bad = config({
      wrong: { url: `${base()}/wrong.crt`, thumbprints: [cert(oldRoot).sha256] },
      slow: { url: `${base()}/slow/root.der`, thumbprints: [cert(oldRoot).sha256], fetch: { timeoutSeconds: 1 } },
    });
    await assert.rejects(loadFleetArgs(bad, { privateKey: "k" }, readFile), (error: Error) => {
      assert.match(error.message, /trusted-roots:rootSets\.wrong\.url \(.*wrong\.crt\): no certificate it answered has the pinned thumbprint/);
      assert.match(error.message, /trusted-roots:rootSets\.slow\.url: .*slow\/root\.der: no complete answer within 1 s .*; nothing was applied/);
      return true;
    });
  });

  describe("from a directory (real slapd holding AD's Certification Authorities container)", () => {
    const ldap = (overrides: Partial<{ url: string; base: string; bindDn: string; startTls: boolean }> = {}) => ({
      kind: "ldap" as const,
      url: `ldap://${site.address}`,
      base: CERTIFICATION_AUTHORITIES,
      bindDn: LDAP_ADMIN,
      // A bind never crosses the network in clear: ldap:// binds only after StartTLS.
      startTls: true,
      ...overrides,
    });
    const directoryCa = { ca: "" };

    before(async () => {
      directoryCa.ca = lab.serverCa;
      const ldif = directoryLdif([
        { name: "Contoso Root CA", der: pki.der(oldRoot) },
        { name: "Contoso Root CA 2026", der: pki.der(newRoot) },
      ]);
      await lab.writeFile(site, "/etc/trl-slapd.conf", SLAPD_CONFIG);
      await lab.writeFile(site, "/tmp/directory.ldif", ldif);
      await lab.sh(site, "mkdir -p /var/lib/trl-ldap && slapadd -q -f /etc/trl-slapd.conf -l /tmp/directory.ldif");
      await lab.exec(site, "slapd", "-f", "/etc/trl-slapd.conf", "-h", `ldap://${site.address}/ ldaps://${site.address}/`);
      await waitUntil(
        () => fetchRoots({ source: ldap(), fetch: directoryCa, thumbprints: [cert(oldRoot).sha256], ldapPassword: LDAP_PASSWORD }).then(() => true, () => false),
        "slapd answers",
      );
    });

    it("binds, reads every cACertificate under the base, and keeps the pinned root", async () => {
      const fetched = await fetchRoots({ source: ldap(), fetch: directoryCa, thumbprints: [cert(oldRoot).sha256], ldapPassword: LDAP_PASSWORD });
      assert.deepEqual(fetched.certificates.map((certificate) => certificate.sha256), [cert(oldRoot).sha256]);
      assert.deepEqual(fetched.certificates[0].fetchedFrom, { url: `ldap://${site.address}/${CERTIFICATION_AUTHORITIES}`, pinned: true, pinnedBy: "SHA-256" });
      assert.deepEqual(fetched.leftOut.map((certificate) => certificate.sha256), [cert(newRoot).sha256]);
    });

    it("over ldaps and StartTLS with the directory's CA given; without it the TLS certificate is refused", async () => {
      const pins = { thumbprints: [cert(newRoot).sha256], ldapPassword: LDAP_PASSWORD };
      const ldaps = await fetchRoots({ source: ldap({ url: `ldaps://${site.address}`, startTls: undefined }), fetch: { ca: lab.serverCa }, ...pins });
      assert.equal(ldaps.certificates[0].sha256, cert(newRoot).sha256);
      const startTls = await fetchRoots({ source: ldap({ startTls: true }), fetch: { ca: lab.serverCa }, ...pins });
      assert.equal(startTls.certificates[0].sha256, cert(newRoot).sha256);
      await assert.rejects(fetchRoots({ source: ldap({ url: `ldaps://${site.address}`, startTls: undefined }), ...pins }), /its TLS certificate .*fetch\.caBundleFile/);
      await assert.rejects(fetchRoots({ source: ldap(), ...pins }), /its TLS certificate .*fetch\.caBundleFile/);
    });

    it("a wrong password, an anonymous search, a wrong base, a wrong pin and a closed port each say what happened", async () => {
      const old = [cert(oldRoot).sha256];
      await assert.rejects(fetchRoots({ source: ldap(), fetch: directoryCa, thumbprints: old, ldapPassword: "wrong" }), /refused the bind as cn=admin,dc=contoso,dc=test \(invalid credentials\); check the secret ldapPassword/);
      await assert.rejects(fetchRoots({ source: ldap({ bindDn: undefined }), fetch: directoryCa, thumbprints: old }), /the directory refused the search \(insufficient access\); set bindDn/);
      await assert.rejects(fetchRoots({ source: ldap({ base: `cn=Nowhere,${LDAP_SUFFIX}` }), fetch: directoryCa, thumbprints: old, ldapPassword: LDAP_PASSWORD }), /the directory has no entry cn=Nowhere,dc=contoso,dc=test; check base/);
      await assert.rejects(fetchRoots({ source: ldap(), fetch: directoryCa, thumbprints: [cert(other).sha256], ldapPassword: LDAP_PASSWORD }), /no certificate it answered has the pinned thumbprint/);
      await assert.rejects(fetchRoots({ source: ldap({ url: `ldap://${site.address}:1389` }), thumbprints: old, ldapPassword: LDAP_PASSWORD }), /cannot be reached: .*ECONNREFUSED/);
    });

    it("a stack config: the bind password is the secret ldapPassword; without it the set is refused before any fetch", async () => {
      const config = parseFleetConfig({
        servers: [{ name: "web01", host: "10.0.0.5", platform: "debian", hostKey: site.hostKey, roots: ["ad"] }],
        rootSets: { ad: { ldap: { url: `ldaps://${site.address}`, base: CERTIFICATION_AUTHORITIES, bindDn: LDAP_ADMIN }, thumbprints: [cert(oldRoot).sha256], fetch: { caBundleFile: "lab-ca.pem" } } },
      });
      const readFile = (path: string) => readFileSync(join(pki.dir, path));
      writeFileSync(join(pki.dir, "lab-ca.pem"), lab.serverCa);
      const { args } = await loadFleetArgs(config, { privateKey: "k", ldapPassword: LDAP_PASSWORD }, readFile);
      assert.deepEqual(args.servers[0].roots.map((root) => root.sha256), [cert(oldRoot).sha256]);
      await assert.rejects(loadFleetArgs(config, { privateKey: "k" }, readFile), /trusted-roots:rootSets\.ad\.ldap\.bindDn: the bind needs a password: pulumi config set --secret trusted-roots:ldapPassword/);
    });
  });
});
