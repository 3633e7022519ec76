// The Pulumi program: the stack config (see examples/) declares the fleet; `pulumi up` makes it so.
import * as pulumi from "@pulumi/pulumi";
import { fleetFromStackConfig } from "./components/program";

// An async program (Pulumi awaits the exported function): root sets may be fetched from a URL or certsrv first.
// The project directory is Pulumi.yaml's; an inline run sets it through PULUMI_NODEJS_ROOT_DIRECTORY.
export = async () => {
  const fleet = await fleetFromStackConfig(pulumi.runtime.getRootDirectory());
  return {
    /** Per server: in sync or changed, what was imported and removed. */
    report: fleet.report,
    /** The rollout waves, by server name. */
    waves: fleet.waves,
  };
};
