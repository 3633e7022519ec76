import { createHash } from "node:crypto";

/** A pinned host key: the exact public key, or only its SHA-256 fingerprint. */
export type HostKeyPin =
  | { kind: "key"; keyType: string; blob: Buffer; fingerprint: string }
  | { kind: "fingerprint"; fingerprint: string };

const KEY_TYPES = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-dss)$/;

/**
 * The host key signature algorithms offered, strongest first: never SHA-1 `ssh-rsa` signatures, never DSA.
 * An RSA key signs with rsa-sha2-512/256 (RFC 8332; OpenSSH 7.2 and later, every Win32-OpenSSH release).
 */
export const HOST_KEY_ALGORITHMS = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256"] as const;
export type HostKeyAlgorithm = (typeof HOST_KEY_ALGORITHMS)[number];

/** The signature algorithms that prove a key of this type: asked for alone, so a server with several keys presents the pinned one. */
export function signatureAlgorithmsFor(keyType: string): HostKeyAlgorithm[] {
  return keyType === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256"] : HOST_KEY_ALGORITHMS.filter((algorithm) => algorithm === keyType);
}

/** OpenSSH's `SHA256:...` fingerprint (unpadded base64) of a raw public key blob. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * Read a pin in any of the forms people have at hand: a `known_hosts` line (`web01 ssh-ed25519 AAAA...`),
 * a public key (`ssh-ed25519 AAAA... comment`, as in ssh_host_ed25519_key.pub) or `SHA256:...` (as
 * `ssh-keygen -lf` prints it).
 */
export function parseHostKeyPin(text: string): HostKeyPin {
  const trimmed = text.trim();
  const fingerprint = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(trimmed);
  if (fingerprint) return { kind: "fingerprint", fingerprint: `SHA256:${fingerprint[1]}` };
  if (trimmed.startsWith("@")) {
    throw new Error(`host key ${JSON.stringify(shorten(trimmed))} is a known_hosts marker line (@cert-authority/@revoked); pin the host's own key`);
  }
  const words = trimmed.split(/\s+/);
  const typeIndex = words.findIndex((word) => KEY_TYPES.test(word));
  if (typeIndex < 0 || typeIndex > 1 || !words[typeIndex + 1]) {
    throw new Error(
      `host key ${JSON.stringify(shorten(trimmed))} is not a known_hosts line, an 'ssh-ed25519 AAAA...' public key or a ` +
        "'SHA256:...' fingerprint; get it with `ssh-keyscan -t ed25519 HOST` from a trusted network or from the server's " +
        "/etc/ssh/ssh_host_ed25519_key.pub",
    );
  }
  const blob = Buffer.from(words[typeIndex + 1], "base64");
  const declaredType = blob.length > 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString("latin1") : "";
  if (declaredType !== words[typeIndex]) {
    throw new Error(`host key ${JSON.stringify(shorten(trimmed))}: the base64 key does not encode a ${words[typeIndex]} key (damaged copy?)`);
  }
  if (declaredType === "ssh-dss") {
    throw new Error(
      `host key ${JSON.stringify(shorten(trimmed))} is a DSA key, which OpenSSH disabled in 7.0 (1024 bits, SHA-1); pin the host's ed25519 key ` +
        "(ssh-keygen -A creates it; `ssh-keyscan -t ed25519 HOST` reads it)",
    );
  }
  return { kind: "key", keyType: words[typeIndex], blob, fingerprint: fingerprintOf(blob) };
}

export function pinMatches(pin: HostKeyPin, presented: Buffer): boolean {
  return pin.kind === "key" ? pin.blob.equals(presented) : pin.fingerprint === fingerprintOf(presented);
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
