import * as pulumi from "@pulumi/pulumi";
import { TRUST_STORE_PROVIDER_VERSION, TRUST_STORE_SECRET_INPUTS, type ObservedSummary, type RootInput } from "./trustStoreCore";
import { pluginResourceOptions, type ConnectionArgs } from "./shared";
import type { PlatformName, StoreName } from "../platforms";
import type { JavaKeystoreLocation } from "../platforms/java";
import type { StoreMode } from "../plan";
import { RESOURCE_NAMES, TRUST_STORE_TYPE } from "../typeTokens";

export { TRUST_STORE_TYPE } from "../typeTokens";

export interface TrustStoreArgs {
  connection: pulumi.Input<ConnectionArgs>;
  platform: pulumi.Input<PlatformName>;
  store?: pulumi.Input<StoreName>;
  /** The "Java" store's keystore: the JVM's cacerts, a JDK's, or an application truststore. */
  keystore?: pulumi.Input<JavaKeystoreLocation>;
  /** The Java keystore's password (an application truststore's is required; a cacerts' default is changeit). */
  keystorePassword?: pulumi.Input<string>;
  roots: pulumi.Input<Record<string, RootInput>>;
  distrusted?: pulumi.Input<Record<string, RootInput>>;
  mode?: pulumi.Input<StoreMode>;
  retainOnDelete?: pulumi.Input<boolean>;
  /**
   * This declaration's id in the host-side manifest; default `<project>/<stack>/<resource name>`. A root leaves
   * the host only when no declaration holds it: a renamed server, or a second stack declaring the same root on
   * the same host, never strips trust.
   */
  owner?: pulumi.Input<string>;
}

/**
 * One server's trust store (a Windows logical store, or the Linux system store), kept as declared. Served by the
 * `trusted-roots` provider plugin.
 */
export class TrustStore extends pulumi.CustomResource {
  declare readonly roots: pulumi.Output<Record<string, RootInput>>;
  declare readonly observed: pulumi.Output<ObservedSummary>;
  declare readonly imported: pulumi.Output<string[]>;
  declare readonly removed: pulumi.Output<string[]>;
  declare readonly revision: pulumi.Output<string>;
  declare readonly changed: pulumi.Output<boolean>;

  constructor(name: string, args: TrustStoreArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      TRUST_STORE_TYPE,
      name,
      {
        providerVersion: TRUST_STORE_PROVIDER_VERSION,
        // The connection carries the private key or password: a secret input, so it is encrypted in the state's
        // inputs too, whatever the caller passed (additionalSecretOutputs covers outputs only).
        connection: pulumi.secret(args.connection),
        platform: args.platform,
        store: args.store ?? "Root",
        keystore: args.keystore,
        keystorePassword: args.keystorePassword === undefined ? undefined : pulumi.secret(args.keystorePassword),
        roots: args.roots,
        distrusted: args.distrusted ?? {},
        mode: args.mode ?? "exact",
        retainOnDelete: args.retainOnDelete ?? false,
        owner: args.owner ?? `${pulumi.getProject()}/${pulumi.getStack()}/${name}`,
        observed: undefined,
        imported: undefined,
        removed: undefined,
        revision: undefined,
        changed: undefined,
      },
      pluginResourceOptions(opts, RESOURCE_NAMES.trustStore, TRUST_STORE_SECRET_INPUTS),
    );
  }
}
