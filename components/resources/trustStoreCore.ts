import { randomBytes } from "node:crypto";
import { createHash } from "node:crypto";
import { z } from "zod";
import { describeCertificate, parseCertificates, toPem, type Certificate } from "../certificates";
import { DEFAULT_OWNER, plan as planStore, STORE_MODES, storeOwnership, type DesiredStore, type StoreMode } from "../plan";
import { PLATFORMS, STORE_NAMES, type ObservedStore, type StorePlan } from "../platforms";
import { CACERTS_PASSWORD, javaKeystoreLocationSchema, keystoreKey, keystoreLocationProblem } from "../platforms/java";
import { connectionInput, platformInput, providerVersionInput, secretProperties, type ConnectionInput } from "./shared";
import { parseHostKeyPin } from "../transport/hostKey";
import { DEFAULT_SSH_PORT } from "../transport/target";

/** Bumped when the provider's state shape changes; stored with every TrustStore. */
export const TRUST_STORE_PROVIDER_VERSION = "1";

/** Where a root fetched by fetchRoots came from, and whether a pin selected it: the pinned-sources policy reads it. */
export const fetchedFromSchema = z.strictObject({
  url: z.string().meta({ description: "The source's address." }),
  pinned: z.boolean().meta({ description: "Whether a pinned thumbprint selected the root." }),
  pinnedBy: z.enum(["SHA-1", "SHA-256"]).optional().meta({ description: "Which kind of pin selected it." }),
});

export const rootInputSchema = z
  .object({
    /**
     * The certificate. Inputs carry it; the state's outputs do not (it would be stored twice), so a root read back
     * from outputs has "" here until a refresh fills in what the host holds.
     */
    pem: z.string().default("").meta({ description: "PEM text (inputs only: the state keeps the fingerprints)." }),
    sha256: z.string().regex(/^[0-9A-F]{64}$/, "must be the upper-case SHA-256 hex of the certificate").meta({ description: "Upper-case SHA-256 hex." }),
    sha1: z.string().regex(/^[0-9A-F]{40}$/, "must be the upper-case SHA-1 hex of the certificate").meta({ description: "Upper-case SHA-1 hex." }),
    subject: z.string().meta({ description: "Distinguished name." }),
    fetchedFrom: fetchedFromSchema.optional().meta({ description: "Where a fetched root came from, and whether a pin selected it (the pinned-sources policy reads it)." }),
  })
  .meta({ description: "A certificate as a TrustStore input." });
export type RootInput = z.infer<typeof rootInputSchema>;

export const trustStoreInputsSchema = z.object({
  connection: connectionInput,
  platform: platformInput,
  store: z.enum(STORE_NAMES).default("Root").meta({ description: "Windows: Root, CA, Disallowed or ClientAuthIssuer (logical stores); Linux: Root or CA; either: Java (a Java keystore, with keystore)." }),
  keystore: javaKeystoreLocationSchema.optional().meta({ description: "The Java store's keystore." }),
  keystorePassword: z.string().min(1).optional().meta({ description: `The Java keystore's password: required for an application truststore; a cacerts' default is ${CACERTS_PASSWORD}.`, secret: true }),
  /**
   * Desired roots by SHA-256 (`toRootInputs`): a key a certificate's own name chose could be `__proto__`, which
   * serialization drops, or collide with another's. `pulumi preview --diff` shows each entry with its subject.
   */
  roots: z.record(z.string(), rootInputSchema).meta({ description: "Desired roots by SHA-256 (upper-case hex)." }),
  distrusted: z.record(z.string(), rootInputSchema).default({}).meta({ description: "Roots the server must not trust, by SHA-256." }),
  mode: z.enum(STORE_MODES).default("exact").meta({ description: "What else may be removed." }),
  retainOnDelete: z.boolean().default(false).meta({ description: "Leave the roots on the server when the resource is deleted." }),
  /** The declaration's id in the host-side manifest (see DesiredStore.owner); absent in states from before owners. */
  owner: z.string().min(1).optional().meta({ description: "This declaration's id in the host-side manifest; default <project>/<stack>/<name>." }),
  providerVersion: providerVersionInput(TRUST_STORE_PROVIDER_VERSION),
});
export type TrustStoreInputs = z.input<typeof trustStoreInputsSchema>;
/** The connection (keys, passwords) and a Java keystore's password. */
export const TRUST_STORE_SECRET_INPUTS = secretProperties(trustStoreInputsSchema.shape);
export type ValidTrustStoreInputs = z.output<typeof trustStoreInputsSchema>;

export const observedSummarySchema = z.object({
  bootId: z.string().meta({ description: "The host's boot id when it was observed." }),
  pendingReboot: z.boolean().meta({ description: "The host owed a reboot." }),
  managed: z.array(z.object({ sha256: z.string(), sha1: z.string(), subject: z.string(), trusted: z.boolean() })).meta({ description: "Roots this tool installed." }),
  foreign: z.array(z.object({ sha256: z.string(), sha1: z.string(), subject: z.string(), origin: z.string() })).meta({ description: "Roots someone else installed." }),
  distrusted: z.array(z.object({ sha256: z.string(), subject: z.string() })).meta({ description: "Distrusted roots." }),
  systemRoots: z.number().int().meta({ description: "Roots the OS ships." }),
  warnings: z.array(z.string()).meta({ description: "What could not be read." }),
});
export type ObservedSummary = z.infer<typeof observedSummarySchema>;

/** What a TrustStore's state holds beside its inputs: what was observed and done. */
export const trustStoreStateSchema = z.object({
  observed: observedSummarySchema.meta({ description: "What the last observation saw." }),
  imported: z.array(z.string()).meta({ description: "Subjects the last apply imported." }),
  removed: z.array(z.string()).meta({ description: "Subjects the last apply removed." }),
  /** Changes only when this tool changed the store: the trigger for restarts and reboots. */
  revision: z.string().meta({ description: "Changes only when this tool changed the store." }),
  /** The last create/update changed the store (a new HostReboot/ServiceRestart acts only then). */
  changed: z.boolean().meta({ description: "The last create or update changed the store." }),
  /**
   * The id this resource's holds carry in the host-side manifest: the owner and an instance suffix made at create
   * (`<owner>#<8 hex>`), so a replacement (created before the old one is deleted) holds under an id of its own and
   * the old one's delete cannot take the new one's hold away. Absent in states from before it: the owner then.
   */
  holder: z.string().optional().meta({
    description: "Whom the host's manifest says holds this store's roots: the owner id and a suffix made at create, so a replacement's delete releases only its own holds.",
  }),
});

/** The resource's state: its inputs (roots without their PEM) plus what was observed and done. */
export interface TrustStoreOutputs extends Omit<ValidTrustStoreInputs, "roots" | "distrusted">, z.infer<typeof trustStoreStateSchema> {
  roots: Record<string, Omit<RootInput, "pem">>;
  distrusted: Record<string, Omit<RootInput, "pem">>;
}

/** The `roots` map of these certificates, each under its SHA-256 (a twin declared twice is one entry). */
export function toRootInputs(certificates: readonly Certificate[]): Record<string, RootInput> {
  return Object.fromEntries(
    certificates.map(({ pem, sha256, sha1, subject, fetchedFrom }) => [sha256, { pem, sha256, sha1, subject, ...(fetchedFrom ? { fetchedFrom } : {}) }]),
  );
}

export const MAX_DECLARED_ROOTS = 500;

/** Problems a deploy must not go ahead with, each naming the property and the certificate. */
export function checkRoots(inputs: ValidTrustStoreInputs, now = new Date()): { property: string; reason: string }[] {
  const failures: { property: string; reason: string }[] = [];
  const seen = new Map<string, string>();
  const inspect = (collection: "roots" | "distrusted", key: string, root: RootInput) => {
    const property = `${collection}["${key}"]`;
    let certificate: Certificate;
    try {
      [certificate] = parseCertificates(root.pem, { name: property });
    } catch (error) {
      failures.push({ property, reason: (error as Error).message });
      return;
    }
    if (certificate.sha256 !== root.sha256 || certificate.sha1 !== root.sha1) {
      failures.push({ property, reason: `the fingerprints do not match the PEM (the PEM is ${describeCertificate(certificate)})` });
    }
    if (collection === "distrusted") return;
    if (!certificate.isCA) {
      failures.push({ property, reason: `${describeCertificate(certificate)} is not a CA certificate; a trust store takes CA certificates only` });
    } else if (inputs.store === "Root" && !certificate.selfSigned) {
      failures.push({
        property,
        reason: `${describeCertificate(certificate)} is an intermediate CA (issued by "${certificate.issuer}"); put it in the "CA" store, not "Root"`,
      });
    } else if (inputs.store === "CA" && inputs.platform !== "windows" && certificate.selfSigned) {
      // Linux keeps the "CA" store's certificates beside (or in) the trusted bundle: a root there would be trusted.
      failures.push({ property, reason: `${describeCertificate(certificate)} is a self-signed root; on ${inputs.platform} declare it under roots, not in the "CA" store` });
    }
    if (Date.parse(certificate.notBefore) > now.getTime()) {
      failures.push({ property, reason: `${describeCertificate(certificate)} is not valid until ${certificate.notBefore}; check the issuing machine's clock or wait` });
    }
    if (Date.parse(certificate.notAfter) < now.getTime()) {
      failures.push({ property, reason: `${describeCertificate(certificate)} expired on ${certificate.notAfter}; renew the CA or drop it` });
    }
    const earlier = seen.get(certificate.sha256);
    if (earlier) failures.push({ property, reason: `${describeCertificate(certificate)} is declared twice (also as ${earlier})` });
    else seen.set(certificate.sha256, property);
  };
  const declared = Object.keys(inputs.roots).length;
  if (declared > MAX_DECLARED_ROOTS) {
    failures.push({
      property: "roots",
      reason: `declares ${declared} roots; more than ${MAX_DECLARED_ROOTS} private roots on one server is almost certainly a mistake (a whole OS bundle?): declare only the roots you add`,
    });
    return failures;
  }
  for (const [key, root] of Object.entries(inputs.roots)) inspect("roots", key, root);
  for (const [key, root] of Object.entries(inputs.distrusted)) {
    inspect("distrusted", key, root);
    const desired = Object.entries(inputs.roots).find(([, candidate]) => candidate.sha256 === root.sha256);
    if (desired) failures.push({ property: `distrusted["${key}"]`, reason: `is also desired as roots["${desired[0]}"]; a root cannot be both` });
  }
  failures.push(...storeProblems(inputs));
  return failures;
}

/** The store must be one the platform has; a Java store needs its keystore (and an application truststore its password). */
function storeProblems(inputs: ValidTrustStoreInputs): { property: string; reason: string }[] {
  if (inputs.store !== "Java") {
    const stores = PLATFORMS[inputs.platform].stores;
    return [
      ...(stores.includes(inputs.store) ? [] : [{ property: "store", reason: `${inputs.platform} has the stores ${stores.map((store) => `"${store}"`).join(" and ")}; ${inputs.store} is Windows' alone` }]),
      ...(inputs.keystore ? [{ property: "keystore", reason: `is for the store "Java" (a Java keystore); this store is ${inputs.store}` }] : []),
    ];
  }
  if (!inputs.keystore) return [{ property: "keystore", reason: 'the store "Java" needs keystore: { kind: "jvm" }, { kind: "jdk", javaHome }, or { kind: "file", path }' }];
  const wrongPath = keystoreLocationProblem(inputs.platform, inputs.keystore);
  if (wrongPath) return [{ property: "keystore", reason: wrongPath }];
  if (Object.keys(inputs.distrusted).length > 0) {
    return [{ property: "distrusted", reason: "a Java keystore takes no distrusted roots yet: distrust them in the server's Root store, and keep them out of the keystore by not declaring them" }];
  }
  if (inputs.keystore.kind === "file" && !inputs.keystorePassword) {
    return [{ property: "keystorePassword", reason: "an application truststore needs its password (a secret): the one its server's JVM is configured with" }];
  }
  return [];
}

/**
 * What deleting a declaration does: only what it declared and the host's manifest says this tool installed, and
 * only its own hold on each (a root another owner still holds stays); its distrusts stay, owner-less (a delete
 * never trusts a root again).
 */
export function deletionPlan(observed: ObservedStore, declared: readonly string[], holder: string): StorePlan {
  const declaredSet = new Set(declared);
  return planStore(
    { roots: [], owner: holder, keepDistrusts: true },
    { ...observed, roots: observed.roots.filter((root) => (root.ownLocations ?? []).length === 0 || declaredSet.has(root.sha256)) },
    "exact",
  );
}

export function desiredStore(inputs: ValidTrustStoreInputs): DesiredStore {
  const read = (collection: Record<string, RootInput>) =>
    Object.entries(collection).map(([key, root]) => parseCertificates(root.pem, { name: key })[0]);
  return { roots: read(inputs.roots), distrusted: read(inputs.distrusted), owner: ownerOf(inputs) };
}

export function ownerOf(inputs: ValidTrustStoreInputs): string {
  return inputs.owner ?? DEFAULT_OWNER;
}

/** A new instance's holder id: the owner and a random suffix (see TrustStoreOutputs.holder). */
export function newHolder(owner: string, suffix = randomBytes(4).toString("hex")): string {
  return `${owner}#${suffix}`;
}

/** The holder id of a state: its own, or (a state from before holders) its owner. */
export function holderOf(state: Partial<TrustStoreOutputs>): string {
  return state.holder ?? state.owner ?? DEFAULT_OWNER;
}

/** The declaration a holder id names: the owner without the instance suffix. */
export function ownerOfHolder(holder: string): string {
  return holder.replace(/#[0-9a-f]{8}$/, "");
}

export function summarize(observed: ObservedStore): ObservedSummary {
  return {
    bootId: observed.bootId,
    pendingReboot: observed.pendingReboot,
    managed: observed.roots
      .filter((root) => root.origin === "managed")
      .map(({ sha256, sha1, subject, trusted }) => ({ sha256, sha1, subject, trusted })),
    foreign: observed.roots
      .filter((root) => root.origin === "local" || root.origin === "policy")
      .map(({ sha256, sha1, subject, origin }) => ({ sha256, sha1, subject, origin })),
    distrusted: observed.distrusted.map(({ sha256, subject }) => ({ sha256, subject })),
    systemRoots: observed.roots.filter((root) => root.origin === "system").length,
    warnings: observed.warnings,
  };
}

/** The next revision: unchanged when nothing was applied, otherwise chained from the previous one. */
export function nextRevision(
  previous: string | undefined,
  storePlan: Pick<StorePlan, "imports" | "removals" | "distrusts"> & Partial<Pick<StorePlan, "undistrusts">>,
  changed: boolean,
): string {
  if (!changed && previous) return previous;
  const undistrusts = (storePlan.undistrusts ?? []).map((root) => root.sha256).sort();
  const change = {
    previous: previous ?? "",
    imports: storePlan.imports.map((root) => root.sha256).sort(),
    removals: storePlan.removals.map((root) => root.sha256).sort(),
    distrusts: storePlan.distrusts.map((root) => root.sha256).sort(),
    // Only when there are any: revisions of changes without them stay what they were.
    ...(undistrusts.length > 0 ? { undistrusts } : {}),
  };
  return createHash("sha256").update(JSON.stringify(change)).digest("hex").slice(0, 16);
}

/**
 * The inputs as the host shows them now, for `read`: declared roots that are still trusted, plus (in exact
 * and purge modes) roots this tool would remove. A later diff against the program's inputs then shows the
 * drift per certificate: `+ roots["Contoso Root CA G2"]` for a root the host lost.
 */
export function liveInputs(state: ValidTrustStoreInputs, observed: ObservedStore, holder: string): ValidTrustStoreInputs {
  const trusted = new Map(observed.roots.filter((root) => root.trusted).map((root) => [root.sha256, root]));
  // The PEM of what the host holds: the same canonical text the program declares (both come from the DER).
  const roots = Object.fromEntries(
    Object.entries(state.roots)
      .filter(([, root]) => trusted.has(root.sha256))
      .map(([key, root]) => {
        const der = trusted.get(root.sha256)?.der;
        return [key, { ...root, pem: der ? toPem(der) : root.pem }];
      }),
  );
  const declared = new Set(Object.values(state.roots).map((root) => root.sha256));
  // What an apply would take away, as the planner decides it: managed roots this resource holds (another stack's or
  // resource's hold on the same host is theirs, not drift here), and under purgeUnmanaged local roots nobody holds.
  const owners = storeOwnership(observed, { owner: holder });
  const removable = observed.roots.filter(
    (root) =>
      !declared.has(root.sha256) &&
      ((root.origin === "managed" && state.mode !== "additive" && owners.holds(root.sha256)) ||
        (root.origin === "local" && state.mode === "purgeUnmanaged" && owners.others(root.sha256).length === 0)),
  );
  for (const root of removable) roots[root.sha256] = { pem: "", sha256: root.sha256, sha1: root.sha1, subject: root.subject };
  const distrustedNow = new Set(observed.distrusted.map((root) => root.sha256));
  const distrusted = Object.fromEntries(Object.entries(state.distrusted).filter(([, root]) => distrustedNow.has(root.sha256)));
  return { ...state, roots, distrusted };
}

/** Property names whose change needs the resource replaced: a different server or store. */
export function replacementReasons(olds: ValidTrustStoreInputs, news: ValidTrustStoreInputs): string[] {
  const reasons: string[] = [];
  const oldConnection = olds.connection as ConnectionInput;
  const newConnection = news.connection as ConnectionInput;
  // A new address with the same pinned key (in any of its forms) is the same server renamed: an update. Without
  // a pin on both sides nothing proves that, so a new address is a new server: the old one must lose its roots.
  const address = (connection: ConnectionInput) => `${connection.host}:${connection.port ?? DEFAULT_SSH_PORT}`;
  const pin = (connection: ConnectionInput) => (connection.hostKey ? parseHostKeyPin(connection.hostKey).fingerprint : undefined);
  const sameKey = pin(oldConnection) !== undefined && pin(oldConnection) === pin(newConnection);
  if (address(oldConnection) !== address(newConnection) && !sameKey) reasons.push("connection");
  if (olds.platform !== news.platform) reasons.push("platform");
  if (olds.store !== news.store) reasons.push("store");
  if ((olds.keystore ? keystoreKey(olds.keystore) : "") !== (news.keystore ? keystoreKey(news.keystore) : "")) reasons.push("keystore");
  return reasons;
}

/** The roots as the state's outputs keep them: fingerprints and names, without the PEM the inputs hold. */
export function withoutPem(roots: Record<string, RootInput>): Record<string, Omit<RootInput, "pem">> {
  return Object.fromEntries(Object.entries(roots).map(([key, { sha256, sha1, subject }]) => [key, { sha256, sha1, subject }]));
}

/** Declared and distrusted roots, with or without their PEM (inputs, or the state's outputs). */
export interface RootSets {
  roots: Record<string, Pick<RootInput, "sha256" | "subject">>;
  distrusted: Record<string, Pick<RootInput, "sha256" | "subject">>;
}

/** Root-by-root difference between what the state holds and what is declared. */
export function rootChanges(olds: RootSets, news: RootSets): string[] {
  const changes: string[] = [];
  const compare = (collection: "roots" | "distrusted") => {
    const before = new Map(Object.values(olds[collection]).map((root) => [root.sha256, root.subject]));
    const after = new Map(Object.values(news[collection]).map((root) => [root.sha256, root.subject]));
    for (const [sha256, subject] of after) if (!before.has(sha256)) changes.push(`+ ${collection}: ${subject} (SHA-256 ${sha256})`);
    for (const [sha256, subject] of before) if (!after.has(sha256)) changes.push(`- ${collection}: ${subject} (SHA-256 ${sha256})`);
  };
  compare("roots");
  compare("distrusted");
  return changes;
}

export type { StoreMode };
