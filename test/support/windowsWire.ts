import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RemoteScript } from "../../components/platforms";
import { BOOTSTRAP_COMMAND } from "../../components/platforms/windowsTransport";

/** The script and data a Windows command carries on stdin, read the way the bootstrap reads them. */
export function readWire(script: RemoteScript): { script: string; data: string } {
  assert.equal(script.command, BOOTSTRAP_COMMAND, "every Windows command line is the fixed bootstrap");
  return decodeStdinLines(script.stdin);
}

/** What the bootstrap does with `$input` lines: base64 of UTF-8, decoded strictly (a bad byte throws). */
export function decodeStdinLines(stdin: string): { script: string; data: string } {
  const lines = stdin.split(/\r?\n/);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  return { script: utf8.decode(Buffer.from(lines[0], "base64")), data: utf8.decode(Buffer.from(lines[1] ?? "", "base64")) };
}

/** Bytes as a console with `codePage` decodes them (iconv, an independent decoder), back in UTF-8. */
export function throughCodePage(bytes: Buffer, codePage: string): string {
  return execFileSync("iconv", ["-f", codePage, "-t", "UTF-8"], { input: bytes, encoding: "utf8" });
}

/** Stdout as the Windows scripts print it: records on CRLF lines, the observation as base64 JSON. */
export function observationStdout(observation: object, before = "@@begin observe", after = "@@done"): string {
  return `${before}\r\n@@observation ${Buffer.from(JSON.stringify(observation), "utf8").toString("base64")}\r\n${after}\r\n`;
}

export const field = (text: string) => Buffer.from(text, "utf8").toString("base64");

/**
 * A Microsoft certificate trust list built to the published structure by an independent encoder
 * (`openssl asn1parse -genconf`), shaped like authroot.stl: PKCS#7 SignedData, szOID_CTL content placed
 * directly, subjectUsage root-list-signer, a sequence number, thisUpdate, subject algorithm, subjects with
 * and without attributes.
 */
export function buildTrustList(identifiers: readonly string[], algorithm: "sha1" | "sha256" | "md5" = "sha1", form: "pkcs7" | "content only" = "pkcs7"): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "trusted-roots-ctl-"));
  const subjects = identifiers.map((_, index) => `s${index}=SEQUENCE:s${index}`).join("\n");
  const sections = identifiers
    .map((id, index) =>
      index % 2 === 0
        ? `[s${index}]\nid=FORMAT:HEX,OCTETSTRING:${id}\nattrs=SET:attrs${index}\n[attrs${index}]\na=SEQUENCE:attr${index}\n[attr${index}]\noid=OID:1.3.6.1.4.1.311.10.11.11\nv=SET:v${index}\n[v${index}]\no=FORMAT:HEX,OCTETSTRING:4D0053`
        : `[s${index}]\nid=FORMAT:HEX,OCTETSTRING:${id}`,
    )
    .join("\n");
  const config = `asn1=SEQUENCE:${form === "pkcs7" ? "ci" : "ctl"}
[ci]
type=OID:pkcs7-signedData
content=EXPLICIT:0,SEQUENCE:sd
[sd]
version=INTEGER:1
digests=SET:digests
inner=SEQUENCE:inner
signers=SET:signers
[digests]
d=SEQUENCE:alg256
[alg256]
oid=OID:sha256
p=NULL
[signers]
[inner]
type=OID:1.3.6.1.4.1.311.10.1
content=EXPLICIT:0,SEQUENCE:ctl
[ctl]
usage=SEQUENCE:usage
seq=INTEGER:0x1401DCD1EFA35B4A5B
this=UTCTIME:260422003328Z
alg=SEQUENCE:alg
subjects=SEQUENCE:subjects
[usage]
u1=OID:1.3.6.1.4.1.311.10.3.9
[alg]
oid=OID:${algorithm}
p=NULL
[subjects]
${subjects}
${sections}
`;
  writeFileSync(join(dir, "ctl.cnf"), config);
  execFileSync("openssl", ["asn1parse", "-genconf", join(dir, "ctl.cnf"), "-out", join(dir, "ctl.der"), "-noout"]);
  return readFileSync(join(dir, "ctl.der"));
}

/** What a host reports for a folder or file the tool created: owner Administrators, SYSTEM and Administrators only. */
export function adminOnly(path: string, folder: boolean) {
  const full = 0x1f01ff;
  return {
    Path: path,
    Exists: true,
    Folder: folder,
    ReparsePoint: false,
    Owner: "S-1-5-32-544",
    Rules: [
      { Sid: "S-1-5-18", Allow: true, Rights: full, InheritOnly: false },
      { Sid: "S-1-5-32-544", Allow: true, Rights: full, InheritOnly: false },
    ],
  };
}

/**
 * An observation record as the observe script prints it, with what a healthy host reports by default (secure
 * manifest folder and file, the host's digest of the manifest bytes); `overrides` replace fields.
 */
export function hostObservation(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const manifest = typeof overrides.Manifest === "string" ? Buffer.from(overrides.Manifest, "base64") : undefined;
  const folder = "C:\\ProgramData\\trusted-roots";
  return {
    BootId: "2026-11-20T08:00:00.0000000Z",
    PendingRebootReasons: [],
    Manifest: null,
    ManifestDigest: manifest ? createHash("sha256").update(manifest).digest("hex") : "absent",
    ManifestSecurity: manifest ? [adminOnly(folder, true), adminOnly(`${folder}\\manifest.json`, false)] : [adminOnly(folder, true), { Path: `${folder}\\manifest.json`, Exists: false }],
    SecurityDigest: "0123456789abcdef",
    Certificates: [],
    Distrusted: [],
    TrustList: "",
    DisallowedTrustList: "",
    ClientAuthTrustMode: null,
    SendTrustedIssuerList: null,
    ...overrides,
  };
}
