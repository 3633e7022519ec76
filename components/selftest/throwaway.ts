import { generateKeyPairSync, randomBytes } from "node:crypto";
import type * as Forge from "node-forge";
import { nodeForge } from "../certificates/forge";
import { parseCertificates, type Certificate } from "../certificates";

/**
 * A throw-away self-signed root for the self-test: valid for one day, a random name, its key discarded.
 * The key pair comes from node:crypto (native, fast); node-forge only assembles and signs the certificate.
 */
export function throwawayRoot(now = new Date(), options: { commonName?: string; notBefore?: Date; notAfter?: Date } = {}): Certificate {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const certificate = nodeForge().pki.createCertificate();
  certificate.publicKey = nodeForge().pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString());
  // A positive serial: the high bit clear.
  certificate.serialNumber = `01${randomBytes(15).toString("hex")}`;
  certificate.validity.notBefore = options.notBefore ?? new Date(now.getTime() - 60 * 60 * 1000);
  certificate.validity.notAfter = options.notAfter ?? new Date(now.getTime() + 24 * 60 * 60 * 1000);
  const name = [
    // UTF8String: any text a test or a user may choose.
    { name: "commonName", value: options.commonName ?? `trusted-roots selftest ${randomBytes(4).toString("hex")}`, valueTagClass: nodeForge().asn1.Type.UTF8 as unknown as Forge.asn1.Class },
    { name: "organizationName", value: "trusted-roots selftest (throw-away, never trusted)" },
  ];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
  ]);
  certificate.sign(nodeForge().pki.privateKeyFromPem(privateKey.export({ type: "pkcs1", format: "pem" }).toString()), nodeForge().md.sha256.create());
  return parseCertificates(nodeForge().pki.certificateToPem(certificate), { name: "selftest root" })[0];
}
