import { createPosixPlatform } from "./posix";

/** SUSE and openSUSE: anchors and blacklist under /etc/pki/trust, SUSE's own `update-ca-certificates`. */
export const suse = createPosixPlatform({
  name: "suse",
  anchorsDir: "/etc/pki/trust/anchors",
  ownSuffix: ".pem",
  bundlePath: "/var/lib/ca-certificates/ca-bundle.pem",
  refreshCommand: (afterRemoval) => (afterRemoval ? "update-ca-certificates --fresh" : "update-ca-certificates"),
  distrust: { kind: "blocklist", dir: "/etc/pki/trust/blacklist" },
  intermediatesDir: "/etc/pki/trust",
  pendingRebootTest: "[ -e /run/reboot-needed ]",
});
