import { createPosixPlatform } from "./posix";

/** Arch Linux: p11-kit trust sources under /etc/ca-certificates/trust-source, `trust extract-compat`. */
export const arch = createPosixPlatform({
  name: "arch",
  anchorsDir: "/etc/ca-certificates/trust-source/anchors",
  ownSuffix: ".pem",
  bundlePath: "/etc/ca-certificates/extracted/tls-ca-bundle.pem",
  refreshCommand: () => "trust extract-compat",
  distrust: { kind: "blocklist", dir: "/etc/ca-certificates/trust-source/blocklist" },
  intermediatesDir: "/etc/ca-certificates/trust-source",
  // A kernel upgrade removes the running kernel's modules directory.
  pendingRebootTest: '[ ! -d "/usr/lib/modules/$(uname -r)" ]',
});
