import { createPosixPlatform, type PosixLayout } from "../platforms/posix";
import { shQuote } from "../platforms/shell";
import type { Platform } from "../platforms";

/** Scratch directories the self-test may create, and nothing else. */
export const SCRATCH_PATTERN = /^\/tmp\/trusted-roots-selftest\.[A-Za-z0-9]{6,}$/;

/**
 * A Debian-style trust store built inside `dir` with update-ca-certificates' directory options: local anchors,
 * the compiled bundle, hooks, the manifest, all under `dir`. Refuses any other directory.
 */
export function scratchLayout(dir: string): PosixLayout {
  if (!SCRATCH_PATTERN.test(dir)) {
    throw new Error(`refusing to use ${JSON.stringify(dir)} as a scratch store: the self-test only works under /tmp/trusted-roots-selftest.*`);
  }
  const local = `${dir}/local`;
  const etc = `${dir}/etc`;
  const hooks = `${dir}/hooks`;
  const options = `--localcertsdir ${shQuote(local)} --etccertsdir ${shQuote(etc)} --hooksdir ${shQuote(hooks)}`;
  return {
    name: "debian",
    anchorsDir: local,
    anchorSuffix: ".crt",
    ownSuffix: ".crt",
    bundlePath: `${etc}/ca-certificates.crt`,
    refreshCommand: (afterRemoval) => `update-ca-certificates ${afterRemoval ? "--fresh " : ""}${options}`,
    distrust: { kind: "ca-certificates.conf" },
    pendingRebootTest: "false",
    stateDir: `${dir}/state`,
  };
}

export function scratchPlatform(dir: string): Platform {
  const layout = scratchLayout(dir);
  // Every path a scratch script may write lies inside the scratch directory: checked, not assumed.
  for (const path of [layout.anchorsDir, layout.bundlePath, layout.stateDir!]) {
    if (!path.startsWith(`${dir}/`)) throw new Error(`internal: scratch path ${path} escapes ${dir}`);
  }
  return createPosixPlatform(layout);
}

/** Creates the scratch directory and an empty store in it; prints `@@scratch <dir>`. */
export const CREATE_SCRATCH = `set -eu
dir=$(mktemp -d /tmp/trusted-roots-selftest.XXXXXXXX)
mkdir -p "$dir/local" "$dir/etc" "$dir/hooks" "$dir/state"
printf '@@scratch %s\\n' "$dir"
`;

export function removeScratch(dir: string): string {
  scratchLayout(dir);
  return `rm -rf -- ${shQuote(dir)} && test ! -e ${shQuote(dir)} && echo '@@removed'\n`;
}
