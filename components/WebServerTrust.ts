import * as pulumi from "@pulumi/pulumi";
import { chainCertificateProblems, type Certificate } from "./certificates";
import type { StoreMode } from "./plan";
import type { PlatformName } from "./platforms";
import { HealthCheck, HostReboot, ServiceRestart } from "./resources/afterChange";
import type { HealthCheckInput } from "./resources/health";
import type { ConnectionArgs } from "./resources/shared";
import { TrustStore, type TrustStoreArgs } from "./resources/trustStore";
import { javaStoreSuffix } from "./platforms/java";
import { toRootInputs } from "./resources/trustStoreCore";
import { CERTIFICATE_LIST_NAMES, type CertificateListName, type ServerReport, type ServerTraits } from "./serverCore";

import { WEB_SERVER_TRUST_TYPE } from "./typeTokens";

export { WEB_SERVER_TRUST_TYPE };

/** What to do once a server's store changed: nothing, a reboot, or a restart of exactly one preset, service or command. */
export type AfterChange = NonNullable<ServerTraits["afterChange"]>;

/**
 * What runs after a store change when nothing is declared. Windows: a reboot, the incident's documented fix,
 * because SChannel (in LSASS) and HTTP.sys, not IIS's worker service, decide whether a client certificate's root
 * is trusted. Linux web servers read their CA file on reload, which the operator declares (preset nginx...).
 */
export function defaultAfterChange(platform: PlatformName): AfterChange {
  return platform === "windows" ? { action: "reboot" } : { action: "none" };
}

/** The component's form of a server (serverCore.ts): parsed certificates, and a connection that may hold Outputs. */
export interface WebServerTrustArgs extends ServerTraits, Partial<Record<CertificateListName, readonly Certificate[]>> {
  connection: pulumi.Input<ConnectionArgs>;
  roots: readonly Certificate[];
  mode?: StoreMode;
  healthCheck?: pulumi.Input<HealthCheckInput>;
  /** The password of the server's application truststores (javaKeystores of kind file); a cacerts' is changeit. */
  javaKeystorePassword?: pulumi.Input<string>;
  retainOnDelete?: boolean;
  /** Resources that must finish first (the previous rollout wave). */
  waitFor?: pulumi.Input<pulumi.Resource>[];
  /**
   * Names this server had before: the component and its resources get them as aliases, so a rename is an
   * update in place. (Without them a rename replaces the resources; the host-side owners keep the roots.)
   */
  previousNames?: readonly string[];
}

/** What the component records of each declared certificate: what policies check, without the PEM. */
export function declaredIdentities(certificates: readonly Certificate[] = []) {
  return certificates.map(({ sha1, sha256, subject, notAfter, kind, isCA, selfSigned, keyAlgorithm, keySize, signatureAlgorithm, fetchedFrom }) => ({
    sha1, sha256, subject, notAfter, kind, isCA, selfSigned, keyAlgorithm, keySize, signatureAlgorithm,
    // Only fetched roots carry it: the pinned-sources policy reads it.
    ...(fetchedFrom ? { fetchedFrom } : {}),
  }));
}

/**
 * One web server's trust: its store(s), then the after-change action with the health check inside it.
 * The declared roots are passed to the component itself so policies can see them.
 */
export class WebServerTrust extends pulumi.ComponentResource {
  readonly stores: TrustStore[];
  readonly afterChange?: pulumi.CustomResource;
  readonly report: pulumi.Output<ServerReport>;
  /** Changes exactly when this tool changed one of the server's stores: a trigger for your own resources. */
  readonly revision: pulumi.Output<string>;
  /** The resources a later wave waits for. */
  readonly completion: pulumi.Resource[];

  constructor(name: string, args: WebServerTrustArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super(
      WEB_SERVER_TRUST_TYPE,
      name,
      {
        platform: args.platform,
        ...Object.fromEntries(CERTIFICATE_LIST_NAMES.map((list) => [list, declaredIdentities(args[list])])),
        mode: args.mode ?? "exact",
        afterChange: args.afterChange ?? defaultAfterChange(args.platform),
        healthCheck: args.healthCheck ? pulumi.secret(args.healthCheck) : undefined,
        groups: args.groups ?? [],
        tags: args.tags ?? {},
        javaKeystores: args.javaKeystores ?? [],
      },
      opts,
    );
    this.stores = this.declareStores(name, args);
    // The action runs when any of the server's stores changed.
    this.revision = pulumi.all(this.stores.map((store) => store.revision)).apply((revisions) => revisions.join("+"));
    const changed = pulumi.all(this.stores.map((store) => store.changed)).apply((flags) => flags.some(Boolean));
    this.afterChange = this.declareAfterChange(name, args, changed);
    this.completion = this.afterChange ? [this.afterChange] : this.stores;
    const perStore = pulumi.all(this.stores.map((store) => pulumi.all([store.imported, store.removed, store.revision])));
    this.report = pulumi.all([changed, perStore]).apply(([anyChanged, stores]) => ({
      server: name,
      status: anyChanged ? ("changed" as const) : ("in sync" as const),
      imported: stores.flatMap(([imported]) => imported),
      removed: stores.flatMap(([, removed]) => removed),
      revision: stores.map(([, , storeRevision]) => storeRevision).join("+"),
    }));
    this.registerOutputs({ report: this.report });
  }

  /** Child options: this component as parent, and an alias per previous server name (child URNs carry their own name). */
  private child(args: WebServerTrustArgs, suffix: string, dependsOn: pulumi.Input<pulumi.Resource>[] | undefined): pulumi.CustomResourceOptions {
    return { parent: this, dependsOn, aliases: (args.previousNames ?? []).map((previous) => ({ name: `${previous}-${suffix}` })) };
  }

  /** The Root store, then the CA store for intermediates and cross-signed roots, and Windows' ClientAuthIssuer store. */
  private declareStores(name: string, args: WebServerTrustArgs): TrustStore[] {
    const common = { connection: args.connection, platform: args.platform, mode: args.mode ?? "exact", retainOnDelete: args.retainOnDelete ?? false };
    const root = new TrustStore(
      `${name}-root`,
      { ...common, store: "Root", roots: toRootInputs(args.roots), distrusted: toRootInputs(args.distrusted ?? []) },
      this.child(args, "root", args.waitFor),
    );
    const stores = [root];
    const chainProblems = chainCertificateProblems(args.roots, args.intermediates ?? [], args.crossSigned ?? []);
    if (chainProblems.length > 0) throw new Error(`${name}: ${chainProblems.join("; ")}`);
    const chain = [...(args.intermediates ?? []), ...(args.crossSigned ?? [])];
    if (chain.length > 0) {
      // After the root store: both write the host's one manifest, and one at a time needs no conflict retry.
      stores.push(new TrustStore(`${name}-ca`, { ...common, store: "CA", roots: toRootInputs(chain) }, this.child(args, "ca", [...(args.waitFor ?? []), root])));
    }
    stores.push(...this.declareJavaStores(name, args, common));
    if (args.clientAuthIssuers && args.clientAuthIssuers.length > 0) {
      if (args.platform !== "windows") {
        throw new Error(`${name}: clientAuthIssuers go to the Windows "ClientAuthIssuer" store; ${args.platform} servers take roots only`);
      }
      stores.push(new TrustStore(`${name}-clientauth`, { ...common, store: "ClientAuthIssuer", roots: toRootInputs(args.clientAuthIssuers) }, this.child(args, "clientauth", args.waitFor)));
    }
    return stores;
  }

  /** One store per Java keystore, holding the server's roots; named after the keystore, so the list's order does not matter. */
  private declareJavaStores(name: string, args: WebServerTrustArgs, common: Pick<TrustStoreArgs, "connection" | "platform" | "mode" | "retainOnDelete">): TrustStore[] {
    const keystores = args.javaKeystores ?? [];
    return keystores.map((keystore) => {
      const suffix = javaStoreSuffix(keystore);
      if (keystore.kind === "file" && args.javaKeystorePassword === undefined) {
        throw new Error(`${name}: the truststore ${keystore.path} needs javaKeystorePassword (a secret): the password its server's JVM is configured with`);
      }
      const password = keystore.kind === "file" ? { keystorePassword: args.javaKeystorePassword } : {};
      return new TrustStore(`${name}-${suffix}`, { ...common, store: "Java", keystore, ...password, roots: toRootInputs(args.roots) }, this.child(args, suffix, args.waitFor));
    });
  }

  /** The reboot, restart or bare health check that follows a change of any of the stores (none for `action: none` without checks). */
  private declareAfterChange(name: string, args: WebServerTrustArgs, changed: pulumi.Output<boolean>): pulumi.CustomResource | undefined {
    const trigger = { connection: args.connection, platform: args.platform, revision: this.revision, changed, testCommand: args.testCommand, healthCheck: args.healthCheck };
    const afterChange = args.afterChange ?? defaultAfterChange(args.platform);
    const options = (suffix: string) => this.child(args, suffix, this.stores);
    if (afterChange.action === "reboot") {
      const { timeoutSeconds, delaySeconds, rebootCommand, onlyIfPending } = afterChange;
      const pendingReboot = onlyIfPending
        ? pulumi.all(this.stores.map((store) => store.observed)).apply((observed) => observed.some((summary) => summary?.pendingReboot === true))
        : undefined;
      return new HostReboot(`${name}-reboot`, { ...trigger, timeoutSeconds, delaySeconds, rebootCommand, onlyIfPending, pendingReboot }, options("reboot"));
    }
    if (afterChange.action === "restart") {
      return new ServiceRestart(`${name}-restart`, { ...trigger, preset: afterChange.preset, service: afterChange.service, command: afterChange.command }, options("restart"));
    }
    return args.healthCheck || args.testCommand ? new HealthCheck(`${name}-health`, trigger, options("health")) : undefined;
  }
}
