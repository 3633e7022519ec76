import type * as Forge from "node-forge";

let loaded: typeof Forge | undefined;

/**
 * node-forge, loaded on first use. It is 0.9 MB of JavaScript that only PKCS#7 files, Java keystores, Windows trust
 * lists and the selftest need; loading it with the modules that import it cost every Linux scan ~25 ms of start-up.
 */
export function nodeForge(): typeof Forge {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous load on first use (see above)
  return (loaded ??= require("node-forge") as typeof Forge);
}
