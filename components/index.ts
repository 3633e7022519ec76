// The public API of pulumi-trusted-roots: usable on its own (scripts, pipelines) and by Pulumi programs.
export {
  parseCertificates,
  normalizeThumbprint,
  matchesThumbprint,
  requireRoots,
  splitByKind,
  describeCertificate,
  CertificateInputError,
} from "./certificates";
export type { Certificate, CertificateKind } from "./certificates";
export { plan, planChangesStore, PlanError, STORE_MODES } from "./plan";
export type { StoreMode, DesiredStore } from "./plan";
export { PLATFORMS, PLATFORM_NAMES, STORE_NAMES, platformFor } from "./platforms";
export type { ObservedStore, ObservedRoot, StorePlan, PlatformName, StoreName, Platform, RootOrigin } from "./platforms";
export { observeStore, applyPlan, converge, ApplyError } from "./store";
export type { StoreTarget, ApplyResult } from "./store";
export { SshSession, withSession, TransportError, parseHostKeyPin, fingerprintOf, mapWithConcurrency } from "./transport";
export type { SshTargetInput } from "./transport";
