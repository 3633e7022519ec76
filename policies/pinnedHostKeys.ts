import type { ResourceValidationPolicy } from "@pulumi/policy";
import { parseHostKeyPin } from "../components/transport/hostKey";
import { asRecord, HEALTH_CHECK, HOST_REBOOT, REMOTE_COMMAND, SERVICE_RESTART, TRUST_STORE, type ResourceView } from "./shared";

const CONNECTED_TYPES = [TRUST_STORE, HOST_REBOOT, SERVICE_RESTART, HEALTH_CHECK, REMOTE_COMMAND];

export function pinnedHostKeyViolations(resource: ResourceView): string[] {
  if (!CONNECTED_TYPES.includes(resource.type)) return [];
  const connection = asRecord(resource.props.connection);
  const host = typeof connection.host === "string" ? connection.host : "?";
  if (connection.insecureSkipHostKeyCheck === true) {
    return [`${resource.name} connects to ${host} with insecureSkipHostKeyCheck: anyone on the path can impersonate the server; pin its host key instead`];
  }
  const bastion = asRecord(connection.bastion);
  if (connection.bastion !== undefined && (typeof bastion.hostKey !== "string" || bastion.hostKey.trim() === "")) {
    return [`${resource.name} reaches ${host} through the bastion ${String(bastion.host ?? "?")} without a pinned bastion host key: set connection.bastion.hostKey`];
  }
  if (typeof connection.hostKey !== "string" || connection.hostKey.trim() === "") {
    return [`${resource.name} connects to ${host} without a pinned host key: set connection.hostKey (ssh-keyscan -t ed25519 ${host}, verified out of band)`];
  }
  try {
    const pin = parseHostKeyPin(connection.hostKey);
    // @pulumi/command compares the presented key with `hostKey` as an authorized_keys line: a fingerprint or a
    // known_hosts line with a host name in front never matches, and the command fails at its first connection.
    if (resource.type === REMOTE_COMMAND && (pin.kind !== "key" || !connection.hostKey.trim().startsWith(pin.keyType))) {
      return [
        `${resource.name}: @pulumi/command accepts only the full public key as connection.hostKey for ${host} ` +
          `("ssh-ed25519 AAAA...", as in the server's /etc/ssh/ssh_host_ed25519_key.pub), not ${pin.kind === "key" ? "a known_hosts line" : "a fingerprint"}`,
      ];
    }
    return [];
  } catch (error) {
    return [`${resource.name}: connection.hostKey for ${host} is unusable: ${(error as Error).message}`];
  }
}

export const pinnedHostKeys: ResourceValidationPolicy = {
  name: "pinned-host-keys",
  description: "Every SSH connection (trust stores, reboots, restarts, remote commands) pins the server's host key.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    pinnedHostKeyViolations(args).forEach((message) => reportViolation(message));
  },
};
