import { createPosixPlatform } from "./posix";

/** Alpine: every file under /usr/local/share/ca-certificates is read; its C `update-ca-certificates` rebuilds all. */
export const alpine = createPosixPlatform({
  name: "alpine",
  anchorsDir: "/usr/local/share/ca-certificates",
  ownSuffix: ".crt",
  bundlePath: "/etc/ssl/certs/ca-certificates.crt",
  refreshCommand: () => "update-ca-certificates",
  distrust: { kind: "ca-certificates.conf" },
  pendingRebootTest: "false",
});
