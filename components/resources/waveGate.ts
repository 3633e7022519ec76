import * as pulumi from "@pulumi/pulumi";
import { DYNAMIC_MODULE, RESOURCE_NAMES } from "../typeTokens";

export { WAVE_GATE_TYPE } from "../typeTokens";

// Touches no host and holds no state: created once every server of its wave has finished. The provider
// captures nothing, so its serialized form in the state is a few constant lines.
const waveGateProvider: pulumi.dynamic.ResourceProvider = {
  create: async () => ({ id: "wave-gate", outs: {} }),
};

/**
 * The point between two rollout waves: it depends on every server of one wave, and each server of the next
 * wave depends on it alone, so dependency lists (and the state) grow with the fleet, not with its square.
 */
export class WaveGate extends pulumi.dynamic.Resource {
  constructor(name: string, opts: pulumi.CustomResourceOptions) {
    super(waveGateProvider, name, {}, opts, DYNAMIC_MODULE, RESOURCE_NAMES.waveGate);
  }
}
