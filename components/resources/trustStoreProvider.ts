// The TrustStore methods the provider plugin routes to (components/provider/provider.ts), on plain values.
import type * as provider from "@pulumi/pulumi/provider";
import { CACERTS_PASSWORD, keystoreKey } from "../platforms/java";
import { converge, observeStore, planAndApplyOn, type StoreTarget } from "../store";
import { toPem } from "../certificates";
import { importTarget, storeId } from "./trustStoreImport";
import { warnToEngine } from "./engineLog";
import { containsUnknown, definedFields, describeIssues, parseInputs, stableStringify } from "./shared";
import {
  checkRoots,
  deletionPlan,
  desiredStore,
  ownerOf,
  holderOf,
  newHolder,
  ownerOfHolder,
  liveInputs,
  nextRevision,
  replacementReasons,
  rootChanges,
  summarize,
  trustStoreInputsSchema,
  withoutPem,
  type TrustStoreOutputs,
  type ValidTrustStoreInputs,
} from "./trustStoreCore";

type Inputs = Record<string, unknown>;

function targetOf(inputs: ValidTrustStoreInputs): StoreTarget {
  const keystore = inputs.store === "Java" && inputs.keystore ? { location: inputs.keystore, password: inputs.keystorePassword ?? CACERTS_PASSWORD } : undefined;
  return { connection: inputs.connection, platform: inputs.platform, store: inputs.store, ...(keystore ? { keystore } : {}) };
}

const validated = (inputs: Inputs): ValidTrustStoreInputs => parseInputs(trustStoreInputsSchema, inputs);
const warn = warnToEngine;

export async function check(_olds: Inputs, news: Inputs): Promise<provider.CheckResult> {
  // Values that are not known yet (preview of a new dependency) are checked at apply time.
  if (containsUnknown(news)) return { inputs: news };
  const parsed = trustStoreInputsSchema.safeParse(news);
  if (!parsed.success) return { failures: describeIssues(parsed.error) };
  const failures = checkRoots(parsed.data);
  // The inputs go back as given: defaults are filled in where they are used, so a preview with unknown
  // values and an apply with known ones show the same properties.
  return failures.length > 0 ? { failures } : { inputs: news };
}

export async function diff(_id: string, olds: Inputs, news: Inputs): Promise<provider.DiffResult> {
  if (containsUnknown(news)) return { changes: true };
  const before = validated(olds);
  const after = validated(news);
  const replaces = replacementReasons(before, after);
  const changes =
    replaces.length > 0 ||
    rootChanges(before, after).length > 0 ||
    stableStringify({ ...before, roots: undefined, distrusted: undefined }) !== stableStringify({ ...after, roots: undefined, distrusted: undefined });
  return { changes, replaces, deleteBeforeReplace: false };
}

async function apply(inputs: ValidTrustStoreInputs, previousRevision: string | undefined, holder: string, previousHolder?: string): Promise<TrustStoreOutputs> {
  const desired = { ...desiredStore(inputs), owner: holder, previousOwners: previousHolder && previousHolder !== holder ? [previousHolder] : [] };
  const result = await converge(targetOf(inputs), desired, inputs.mode, { warn });
  for (const root of result.plan.withheld) {
    warn(`${root.subject} is declared but not installed: no root that issued it is trusted on the host, and there it would be trusted on its own; it follows once its root is trusted`);
  }
  return definedFields({
    ...inputs,
    roots: withoutPem(inputs.roots),
    distrusted: withoutPem(inputs.distrusted),
    observed: summarize(result.after),
    imported: result.plan.imports.map((root) => root.subject),
    removed: result.plan.removals.map((root) => root.subject),
    revision: nextRevision(previousRevision, result.plan, result.changed),
    changed: result.changed,
    holder,
  });
}

export async function create(news: Inputs): Promise<provider.CreateResult> {
  const inputs = validated(news);
  const outs = await apply(inputs, undefined, newHolder(ownerOf(inputs)));
  // A Java store's id also names its keystore: a host may have several, and `pulumi import` does not read them.
  const id = storeId(inputs.connection, inputs.platform, inputs.store) + (inputs.keystore ? `/${keystoreKey(inputs.keystore)}` : "");
  return { id, outs };
}

export async function update(_id: string, olds: Inputs, news: Inputs): Promise<provider.UpdateResult> {
  const previous = olds as Partial<TrustStoreOutputs>;
  const inputs = validated(news);
  const previousHolder = holderOf(previous);
  // An aliased rename changes the owner id: the new id (same instance) takes over the old one's holds.
  const holder = ownerOfHolder(previousHolder) === ownerOf(inputs) ? previousHolder : newHolder(ownerOf(inputs), previous.holder?.slice(-8));
  return { outs: await apply(inputs, previous.revision, holder, previousHolder) };
}

export async function read(id: string, props: Inputs | undefined): Promise<provider.ReadResult> {
  // `pulumi import` reads by id alone.
  if (props?.connection === undefined) return importStore(id);
  const state = props as unknown as TrustStoreOutputs;
  const inputs = validated(props);
  const observed = await observeStore(targetOf(inputs), { warn });
  const live = liveInputs(inputs, observed, holderOf(state));
  const outputs: TrustStoreOutputs = { ...state, ...live, roots: withoutPem(live.roots), distrusted: withoutPem(live.distrusted), observed: summarize(observed) };
  return { id, props: definedFields(outputs), inputs: definedFields(live) };
}

/**
 * An existing store taken under management as it is: its inputs are the roots this tool manages there (their PEM
 * read from the host), nothing on the host changes. The next `up` claims them for the program's declaration.
 */
async function importStore(id: string): Promise<provider.ReadResult> {
  const target = importTarget(id, process.env);
  const observed = await observeStore(target, { warn });
  const managed = observed.roots.filter((root) => root.origin === "managed" && root.trusted && root.der);
  const roots = Object.fromEntries(managed.map((root) => [root.sha256, { pem: toPem(root.der!), sha256: root.sha256, sha1: root.sha1, subject: root.subject }]));
  const inputs = validated({ connection: target.connection, platform: target.platform, store: target.store, roots, mode: "exact" });
  const outputs: TrustStoreOutputs = {
    ...inputs,
    roots: withoutPem(inputs.roots),
    distrusted: {},
    observed: summarize(observed),
    imported: [],
    removed: [],
    revision: nextRevision(undefined, { imports: [], removals: [], distrusts: [] }, false),
    changed: false,
  };
  return { id: storeId(target.connection, target.platform, target.store), props: definedFields(outputs), inputs: definedFields(inputs) };
}

export async function deleteStore(_id: string, props: Inputs): Promise<void> {
  const inputs = validated(props);
  if (inputs.retainOnDelete) return;
  const declared = Object.values(inputs.roots).map((root) => root.sha256);
  await planAndApplyOn(targetOf(inputs), (observed) => deletionPlan(observed, declared, holderOf(props as Partial<TrustStoreOutputs>)), { warn });
}
