import { createPosixPlatform, type PosixLayout } from "./posix";

/** Debian and Ubuntu: `update-ca-certificates` reads only `*.crt` under /usr/local/share/ca-certificates. */
export const DEBIAN_LAYOUT: PosixLayout = {
  name: "debian",
  anchorsDir: "/usr/local/share/ca-certificates",
  anchorSuffix: ".crt",
  ownSuffix: ".crt",
  bundlePath: "/etc/ssl/certs/ca-certificates.crt",
  // Without --fresh a removed anchor's symlink and bundle entry survive.
  refreshCommand: (afterRemoval) => (afterRemoval ? "update-ca-certificates --fresh" : "update-ca-certificates"),
  distrust: { kind: "ca-certificates.conf" },
  pendingRebootTest: "[ -e /var/run/reboot-required ]",
};

export const debian = createPosixPlatform(DEBIAN_LAYOUT);
