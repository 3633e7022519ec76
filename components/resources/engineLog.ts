// The log module alone: the SDK's index loads the Automation API and TypeScript (about 1.2 CPU-s), which a
// provider plugin serving CRUD never uses.
import * as log from "@pulumi/pulumi/log";

/** Providers' warnings go to the engine's log (the plugin's main makes that possible), shown as diagnostics. */
export const warnToEngine = (message: string) => void log.warn(message);
