import * as pulumi from "@pulumi/pulumi";

/** Providers' warnings go to the engine's log (the plugin's main makes that possible), shown as diagnostics. */
export const warnToEngine = (message: string) => void pulumi.log.warn(message);
