import { alpine } from "./alpine";
import { arch } from "./arch";
import { debian } from "./debian";
import { rhel } from "./rhel";
import { suse } from "./suse";
import type { Platform, PlatformName } from "./types";
import { windows } from "./windows";

export * from "./types";
export { shQuote, psQuote } from "./shell";
export { ProtocolError } from "./protocol";

export const PLATFORMS: Readonly<Record<PlatformName, Platform>> = { debian, rhel, suse, alpine, arch, windows };

export function platformFor(name: PlatformName): Platform {
  return PLATFORMS[name];
}
