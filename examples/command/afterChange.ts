// Your own step after each server's store change, with @pulumi/command: here, tell a load balancer the server
// trusts the new root. It runs only when the store changed (triggered by the server's revision), after the
// reboot or reload, and the next rollout wave waits for it.
//
// In your program, import from "pulumi-trusted-roots" instead of "../../components".
import * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";
import { parseCertificates, TrustFleet } from "../../components";

export interface CommandExampleServer {
  name: string;
  host: string;
  /**
   * The server's full public host key ("ssh-ed25519 AAAA...", from its /etc/ssh/ssh_host_ed25519_key.pub):
   * the only form @pulumi/command accepts; trusted-roots also takes a fingerprint, @pulumi/command does not.
   */
  hostKey: string;
}

export function fleetWithCommands(
  rootsPem: string,
  servers: readonly CommandExampleServer[],
  privateKey: pulumi.Input<string>,
): { fleet: TrustFleet; commands: command.remote.Command[] } {
  const roots = parseCertificates(rootsPem);
  const hosts = new Map(servers.map((server) => [server.name, server]));
  const commands: command.remote.Command[] = [];
  const fleet = new TrustFleet("web", {
    servers: servers.map((server) => ({
      name: server.name,
      connection: { host: server.host, hostKey: server.hostKey, privateKey },
      platform: "debian",
      roots,
      afterChange: { action: "restart", preset: "nginx" },
    })),
    rollout: { batchSize: 1 },
    afterServer: (trust, name) => {
      const notify = new command.remote.Command(
        `${name}-notify-lb`,
        {
          connection: { host: hosts.get(name)!.host, user: "root", privateKey, hostKey: hosts.get(name)!.hostKey },
          create: "logger -t trusted-roots 'client CA store changed; back in rotation'",
          triggers: [trust.revision],
        },
        { parent: trust, dependsOn: trust.completion },
      );
      commands.push(notify);
      return [notify];
    },
  });
  return { fleet, commands };
}
