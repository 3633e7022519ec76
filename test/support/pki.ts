import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate made with openssl for a test, with its key on disk. */
export interface TestCertificate {
  certPath: string;
  keyPath: string;
  pem: string;
}

export type KeySpec = "rsa2048" | "rsa1024" | "ec256" | "ec384";

function openssl(args: string[], cwd?: string): string {
  return execFileSync("openssl", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function keyArgs(key: KeySpec): string[] {
  switch (key) {
    case "rsa2048":
      return ["-newkey", "rsa:2048"];
    case "rsa1024":
      return ["-newkey", "rsa:1024"];
    case "ec256":
      return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    case "ec384":
      return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp384r1"];
  }
}

/** A scratch PKI directory; every certificate gets a file stem of its own inside it. */
export class TestPki {
  readonly dir: string;
  private serial = 1000;

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), "trusted-roots-pki-"));
  }

  root(stem: string, subject: string, options: { key?: KeySpec; days?: number; digest?: string } = {}): TestCertificate {
    const certPath = join(this.dir, `${stem}.crt`);
    const keyPath = join(this.dir, `${stem}.key`);
    openssl([
      "req", "-x509", ...keyArgs(options.key ?? "rsa2048"), "-nodes", "-keyout", keyPath, "-out", certPath,
      "-days", String(options.days ?? 3650), "-utf8", "-subj", subject, `-${options.digest ?? "sha256"}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    return { certPath, keyPath, pem: readFileSync(certPath, "utf8") };
  }

  /** A certificate signed by `issuer`: an intermediate CA, or a leaf usable as TLS client or server. */
  issue(
    stem: string,
    subject: string,
    issuer: TestCertificate,
    options: { ca?: boolean; key?: KeySpec; days?: number; san?: string } = {},
  ): TestCertificate {
    const certPath = join(this.dir, `${stem}.crt`);
    const keyPath = join(this.dir, `${stem}.key`);
    const csrPath = join(this.dir, `${stem}.csr`);
    const extPath = join(this.dir, `${stem}.ext`);
    openssl(["req", "-new", ...keyArgs(options.key ?? "rsa2048"), "-nodes", "-keyout", keyPath, "-out", csrPath, "-subj", subject]);
    const extensions = options.ca
      ? ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"]
      : ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment",
         "extendedKeyUsage=clientAuth,serverAuth", ...(options.san ? [`subjectAltName=${options.san}`] : [])];
    writeFileSync(extPath, extensions.join("\n") + "\n");
    openssl([
      "x509", "-req", "-in", csrPath, "-CA", issuer.certPath, "-CAkey", issuer.keyPath, "-set_serial",
      String(this.serial++), "-days", String(options.days ?? 825), "-sha256", "-extfile", extPath, "-out", certPath,
    ]);
    return { certPath, keyPath, pem: readFileSync(certPath, "utf8") };
  }

  /** `root` cross-signed by `issuer`: the same subject and key as `root`, issued by another CA. */
  crossSign(stem: string, root: TestCertificate, issuer: TestCertificate): TestCertificate {
    const certPath = join(this.dir, `${stem}.crt`);
    const csrPath = join(this.dir, `${stem}.csr`);
    const extPath = join(this.dir, `${stem}.ext`);
    openssl(["x509", "-x509toreq", "-in", root.certPath, "-signkey", root.keyPath, "-out", csrPath]);
    writeFileSync(extPath, "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
    openssl([
      "x509", "-req", "-in", csrPath, "-CA", issuer.certPath, "-CAkey", issuer.keyPath, "-set_serial",
      String(this.serial++), "-days", "3650", "-sha256", "-extfile", extPath, "-out", certPath,
    ]);
    return { certPath, keyPath: root.keyPath, pem: readFileSync(certPath, "utf8") };
  }

  /** A PKCS#7 (.p7b) file of the given certificates, DER or PEM. */
  pkcs7(stem: string, certificates: TestCertificate[], form: "DER" | "PEM"): string {
    const path = join(this.dir, `${stem}.p7b`);
    openssl(["crl2pkcs7", "-nocrl", ...certificates.flatMap((c) => ["-certfile", c.certPath]), "-outform", form, "-out", path]);
    return path;
  }

  der(certificate: TestCertificate): Buffer {
    return execFileSync("openssl", ["x509", "-in", certificate.certPath, "-outform", "DER"]);
  }
}

/** What `openssl x509` says about a certificate: the oracle the parser is checked against. */
export function opensslFacts(certPath: string) {
  const field = (args: string[]) => openssl(["x509", "-in", certPath, "-noout", ...args]).trim();
  const hexAfterEquals = (line: string) => line.slice(line.indexOf("=") + 1).replace(/:/g, "").toUpperCase();
  const text = field(["-text"]);
  return {
    sha1: hexAfterEquals(field(["-fingerprint", "-sha1"])),
    sha256: hexAfterEquals(field(["-fingerprint", "-sha256"])),
    serial: hexAfterEquals(field(["-serial"])),
    notBefore: new Date(field(["-startdate"]).split("=")[1]).toISOString(),
    notAfter: new Date(field(["-enddate"]).split("=")[1]).toISOString(),
    isCA: /CA:TRUE/.test(field(["-ext", "basicConstraints"])),
    /** RFC 2253 order (most specific first), as `openssl x509 -nameopt RFC2253` prints it. */
    subject: field(["-subject", "-nameopt", "RFC2253"]).replace(/^subject=/, ""),
    issuer: field(["-issuer", "-nameopt", "RFC2253"]).replace(/^issuer=/, ""),
    keyAlgorithm: /Public Key Algorithm: (\S+)/.exec(text)?.[1],
    keyBits: Number(/Public-Key: \((\d+) bit\)/.exec(text)?.[1]),
    signatureAlgorithm: /Signature Algorithm: (\S+)/.exec(text)?.[1],
    text,
  };
}
