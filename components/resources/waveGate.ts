import * as pulumi from "@pulumi/pulumi";
import { RESOURCE_NAMES, WAVE_GATE_TYPE } from "../typeTokens";
import { pluginResourceOptions } from "./shared";

export { WAVE_GATE_TYPE } from "../typeTokens";

/**
 * The point between two rollout waves: it depends on every server of one wave, and each server of the next
 * wave depends on it alone, so dependency lists (and the state) grow with the fleet, not with its square.
 * It touches no host and holds no state.
 */
export class WaveGate extends pulumi.CustomResource {
  constructor(name: string, opts: pulumi.CustomResourceOptions) {
    super(WAVE_GATE_TYPE, name, {}, pluginResourceOptions(opts, RESOURCE_NAMES.waveGate, []));
  }
}
