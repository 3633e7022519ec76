// The trusted-roots policy pack: `pulumi preview --policy-pack policies [--policy-pack-config cfg.json]`.
import { PolicyPack } from "@pulumi/policy";
import { afterChangeAction } from "./afterChangeAction";
import { fleetCoverage } from "./fleetCoverage";
import { forbiddenRoots } from "./forbiddenRoots";
import { pinnedHostKeys } from "./pinnedHostKeys";
import { pinnedSources } from "./pinnedSources";
import { requiredRoots } from "./requiredRoots";
import { rootHygiene, rootHygieneWarnings } from "./rootHygiene";
import { rolloutSafety } from "./rolloutSafety";
import { sha256Pins } from "./sha256Pins";

export const policies = [requiredRoots, forbiddenRoots, rootHygiene, rootHygieneWarnings, pinnedHostKeys, pinnedSources, sha256Pins, afterChangeAction, rolloutSafety, fleetCoverage];

new PolicyPack("trusted-roots", { policies });
