import * as pulumi from "@pulumi/pulumi";
import { WaveGate } from "./resources/waveGate";
import { waves, type Rollout } from "./rollout";
import type { ServerReport } from "./serverCore";
import { WebServerTrust, type WebServerTrustArgs } from "./WebServerTrust";

import { TRUST_FLEET_TYPE } from "./typeTokens";

export { TRUST_FLEET_TYPE };

export interface FleetServer extends Omit<WebServerTrustArgs, "waitFor"> {
  name: string;
}

export interface TrustFleetArgs {
  servers: readonly FleetServer[];
  rollout?: Rollout;
  /**
   * Your own resources for a server, after its store change (a `command.remote.Command` that warms a cache,
   * notifies a load balancer...): they are children of the server, and its wave is complete only when they are,
   * so the next wave waits for them too. Trigger them on `server.revision` to run them only after a change.
   */
  afterServer?: (server: WebServerTrust, serverName: string) => readonly pulumi.Resource[] | void;
}

/**
 * Many servers rolled out in waves: each wave starts only after every server of the previous wave has
 * finished (store, reboot or restart, health check), so a failing wave leaves the later ones untouched.
 */
export class TrustFleet extends pulumi.ComponentResource {
  readonly servers: WebServerTrust[];
  readonly waves: string[][];
  readonly report: pulumi.Output<ServerReport[]>;

  constructor(name: string, args: TrustFleetArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super(TRUST_FLEET_TYPE, name, { serverCount: args.servers.length, rollout: args.rollout ?? {} }, opts);
    const names = new Set<string>();
    for (const server of args.servers) {
      if (names.has(server.name)) throw new Error(`${name}: two servers are named "${server.name}"; server names must be unique`);
      names.add(server.name);
    }
    for (const server of args.servers) {
      const taken = (server.previousNames ?? []).filter((previous) => names.has(previous));
      if (taken.length > 0) throw new Error(`${name}: ${server.name} lists previousNames ${taken.join(", ")}, which another server uses now; a name can belong to one server`);
    }
    const plan = waves(args.servers.length, args.rollout);
    this.waves = plan.map((wave) => wave.map((index) => args.servers[index].name));
    this.servers = [];
    let gate: WaveGate | undefined;
    for (const [waveIndex, wave] of plan.entries()) {
      const members = wave.map((index) => {
        const { name: serverName, ...server } = args.servers[index];
        const aliases = (server.previousNames ?? []).map((previous) => ({ name: previous }));
        return new WebServerTrust(serverName, { ...server, waitFor: gate ? [gate] : [] }, { parent: this, aliases });
      });
      this.servers.push(...members);
      const own = members.flatMap((member, memberIndex) => [...(args.afterServer?.(member, args.servers[wave[memberIndex]].name) ?? [])]);
      if (waveIndex < plan.length - 1) {
        gate = new WaveGate(`${name}-wave-${waveIndex + 1}-done`, { parent: this, dependsOn: [...members.flatMap((member) => member.completion), ...own] });
      }
    }
    this.report = pulumi.all(this.servers.map((server) => server.report));
    this.registerOutputs({ report: this.report, waves: this.waves });
  }
}
