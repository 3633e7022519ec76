import { createPosixPlatform } from "./posix";

/** RHEL, Fedora, CentOS, Rocky, Alma, Amazon Linux: p11-kit anchors and blocklist, `update-ca-trust`. */
export const rhel = createPosixPlatform({
  name: "rhel",
  anchorsDir: "/etc/pki/ca-trust/source/anchors",
  ownSuffix: ".pem",
  bundlePath: "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
  refreshCommand: () => "update-ca-trust extract",
  distrust: { kind: "blocklist", dir: "/etc/pki/ca-trust/source/blocklist" },
  intermediatesDir: "/etc/pki/ca-trust/source",
  pendingRebootTest: "command -v needs-restarting >/dev/null 2>&1 && ! needs-restarting -r >/dev/null 2>&1",
});
