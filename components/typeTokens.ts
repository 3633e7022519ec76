// The one source of the type tokens: the components register them, the provider plugin serves them, the schema
// describes them and the policy pack matches them. Pure constants, so the pack can import them without loading
// Pulumi components.

/** The package: the plugin is `pulumi-resource-trusted-roots`, every token starts with `trusted-roots:`. */
export const PACKAGE_NAME = "trusted-roots";
/** The plugin version the resources ask the engine for (package.json's, checked by a test). */
export const PACKAGE_VERSION = "0.2.0";

export const RESOURCE_NAMES = {
  trustStore: "TrustStore",
  hostReboot: "HostReboot",
  serviceRestart: "ServiceRestart",
  healthCheck: "HealthCheck",
  waveGate: "WaveGate",
} as const;

const token = (name: string) => `${PACKAGE_NAME}:index:${name}`;

export const TRUST_STORE_TYPE = token(RESOURCE_NAMES.trustStore);
export const HOST_REBOOT_TYPE = token(RESOURCE_NAMES.hostReboot);
export const SERVICE_RESTART_TYPE = token(RESOURCE_NAMES.serviceRestart);
export const HEALTH_CHECK_TYPE = token(RESOURCE_NAMES.healthCheck);
export const WAVE_GATE_TYPE = token(RESOURCE_NAMES.waveGate);
export const WEB_SERVER_TRUST_TYPE = token("WebServerTrust");
export const TRUST_FLEET_TYPE = token("TrustFleet");
/** The function (invoke) that fetches pinned roots from a URL, certsrv or LDAP for programs in any language. */
export const FETCH_ROOTS_FUNCTION = token("fetchRoots");

/**
 * The tokens version 0.1 registered as dynamic resources (implementation loaded by path). Each resource aliases
 * its old token, so a stack written by 0.1 moves to the plugin's resources on its next `up`, in place.
 */
export const LEGACY_DYNAMIC_TYPE = (name: (typeof RESOURCE_NAMES)[keyof typeof RESOURCE_NAMES]) => `pulumi-nodejs:dynamic/${PACKAGE_NAME}:${name}`;

/** `@pulumi/command`'s remote command, which users chain after a store change. */
export const REMOTE_COMMAND_TYPE = "command:remote:Command";
