// The public API of pulumi-trusted-roots: usable on its own (scripts, pipelines) and by Pulumi programs.
export {
  parseCertificates,
  normalizeThumbprint,
  matchesThumbprint,
  requireRoots,
  splitByKind,
  describeCertificate,
  chainCertificateProblems,
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
export { TrustStore, TRUST_STORE_TYPE } from "./resources/trustStore";
export type { TrustStoreArgs } from "./resources/trustStore";
export { HostReboot, ServiceRestart, HealthCheck, HOST_REBOOT_TYPE, SERVICE_RESTART_TYPE, HEALTH_CHECK_TYPE } from "./resources/afterChange";
export { WebServerTrust, WEB_SERVER_TRUST_TYPE } from "./WebServerTrust";
export type { WebServerTrustArgs, AfterChange } from "./WebServerTrust";
export type { ServerReport } from "./serverCore";
export { TrustFleet, TRUST_FLEET_TYPE } from "./TrustFleet";
export type { TrustFleetArgs, FleetServer } from "./TrustFleet";
export { waves } from "./rollout";
export { fleetFromStackConfig } from "./program";
export { parseFleetConfig, fleetArgsFromConfig, loadFleetArgs, FleetConfigError } from "./config/load";
export { fetchRoots } from "./sources";
export type { FetchRootsOptions, FetchedRoots, RemoteSource, LdapSource } from "./sources";
export { CONFIG_NAMESPACE } from "./config/schema";
export { readStackConfig } from "./config/stackFile";
