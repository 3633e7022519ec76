// The one source of the type tokens: the components register them and the policy pack matches them. Pure
// constants, so the pack can import them without loading Pulumi components.

/** The module every dynamic resource of this package registers under. */
export const DYNAMIC_MODULE = "trusted-roots";

/** The names the dynamic resources register with; the engine's type token is derived from them. */
export const RESOURCE_NAMES = {
  trustStore: "TrustStore",
  hostReboot: "HostReboot",
  serviceRestart: "ServiceRestart",
  healthCheck: "HealthCheck",
  waveGate: "WaveGate",
} as const;

const dynamicToken = (name: string) => `pulumi-nodejs:dynamic/${DYNAMIC_MODULE}:${name}`;

export const TRUST_STORE_TYPE = dynamicToken(RESOURCE_NAMES.trustStore);
export const HOST_REBOOT_TYPE = dynamicToken(RESOURCE_NAMES.hostReboot);
export const SERVICE_RESTART_TYPE = dynamicToken(RESOURCE_NAMES.serviceRestart);
export const HEALTH_CHECK_TYPE = dynamicToken(RESOURCE_NAMES.healthCheck);
export const WAVE_GATE_TYPE = dynamicToken(RESOURCE_NAMES.waveGate);
export const WEB_SERVER_TRUST_TYPE = "trusted-roots:index:WebServerTrust";
export const TRUST_FLEET_TYPE = "trusted-roots:index:TrustFleet";
/** `@pulumi/command`'s remote command, which users chain after a store change. */
export const REMOTE_COMMAND_TYPE = "command:remote:Command";
