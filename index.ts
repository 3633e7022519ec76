// The Pulumi program: the stack config (see examples/) declares the fleet; `pulumi up` makes it so.
import * as pulumi from "@pulumi/pulumi";
import { fleetFromStackConfig } from "./components/program";

// The project directory (Pulumi.yaml's); an inline run sets it through PULUMI_NODEJS_ROOT_DIRECTORY.
const fleet = fleetFromStackConfig(pulumi.runtime.getRootDirectory());

/** Per server: in sync or changed, what was imported and removed. */
export const report = fleet.report;
/** The rollout waves, by server name. */
export const waves = fleet.waves;
