import type * as pulumi from "@pulumi/pulumi";
import { Output } from "@pulumi/pulumi/output";
import type * as provider from "@pulumi/pulumi/provider";
import { z } from "zod";
import { normalizeThumbprint, parseCertificates, requireRoots, type Certificate } from "../certificates";
import * as afterChange from "../resources/afterChangeProvider";
import * as trustStore from "../resources/trustStoreProvider";
import { describeIssues } from "../resources/shared";
import { AFTER_CHANGE_SECRET_INPUTS } from "../resources/afterChangeCore";
import { TRUST_STORE_SECRET_INPUTS } from "../resources/trustStoreCore";
import { fetchRoots, remoteSourceOf } from "../sources";
import { timedOperation } from "../transport";
import type { FleetServer } from "../TrustFleet";
import { CERTIFICATE_LIST_NAMES } from "../serverCore";
import {
  FETCH_ROOTS_FUNCTION,
  HEALTH_CHECK_TYPE,
  HOST_REBOOT_TYPE,
  SERVICE_RESTART_TYPE,
  TRUST_FLEET_TYPE,
  TRUST_STORE_TYPE,
  WAVE_GATE_TYPE,
  WEB_SERVER_TRUST_TYPE,
} from "../typeTokens";
import { fetchRootsInputSchema, fetchRootsResultSchema, serverInputSchema, trustFleetInputsSchema } from "./componentSchemas";
import { plainValues, typeOfUrn, withSecretProperties } from "./wire";

type Values = Record<string, unknown>;

/** The CRUD of one custom resource type, on plain values. */
interface CustomResourceImplementation {
  check(olds: Values, news: Values): Promise<provider.CheckResult>;
  diff(id: string, olds: Values, news: Values): Promise<provider.DiffResult>;
  create(inputs: Values): Promise<provider.CreateResult>;
  read(id: string, props: Values): Promise<provider.ReadResult>;
  update(id: string, olds: Values, news: Values): Promise<provider.UpdateResult>;
  delete(id: string, props: Values): Promise<void>;
  /** Top-level outputs kept secret in the state whatever the caller passed. */
  secretOutputs: readonly string[];
}

// The resource type says what the action is; a program in another language does not pass `kind` itself.
const withKind = (values: Values, kind: string): Values => ({ ...values, kind: values.kind ?? kind });
const afterChangeImplementation = (kind: "reboot" | "restart" | "verify"): CustomResourceImplementation => ({
  check: (olds, news) => afterChange.check(olds, withKind(news, kind)),
  diff: (id, olds, news) => afterChange.diff(id, withKind(olds, kind), withKind(news, kind)),
  create: (inputs) => afterChange.create(withKind(inputs, kind)),
  update: (id, olds, news) => afterChange.update(id, withKind(olds, kind), withKind(news, kind)),
  read: afterChange.read,
  // Nothing to undo: a reboot or restart has no lasting state.
  delete: async () => undefined,
  secretOutputs: AFTER_CHANGE_SECRET_INPUTS,
});

const IMPLEMENTATIONS: Readonly<Record<string, CustomResourceImplementation>> = {
  [TRUST_STORE_TYPE]: {
    check: trustStore.check,
    diff: trustStore.diff,
    create: trustStore.create,
    read: trustStore.read,
    update: trustStore.update,
    delete: trustStore.deleteStore,
    secretOutputs: TRUST_STORE_SECRET_INPUTS,
  },
  [HOST_REBOOT_TYPE]: afterChangeImplementation("reboot"),
  [SERVICE_RESTART_TYPE]: afterChangeImplementation("restart"),
  [HEALTH_CHECK_TYPE]: afterChangeImplementation("verify"),
  // Touches no host and holds no state: the point between two rollout waves.
  [WAVE_GATE_TYPE]: {
    check: async (_olds, news) => ({ inputs: news }),
    diff: async () => ({ changes: false }),
    create: async () => ({ id: "wave-gate", outs: {} }),
    read: async (id) => ({ id, props: {}, inputs: {} }),
    update: async () => ({ outs: {} }),
    delete: async () => undefined,
    secretOutputs: [],
  },
};

function implementationFor(urn: string): CustomResourceImplementation {
  const type = typeOfUrn(urn);
  const implementation = IMPLEMENTATIONS[type];
  if (!implementation) throw new Error(`the trusted-roots provider has no resource type ${type}`);
  return implementation;
}

const asValues = (value: unknown): Values => (plainValues(value) ?? {}) as Values;

/**
 * The `trusted-roots` provider plugin: the custom resources' CRUD, and the components (WebServerTrust,
 * TrustFleet) through `construct`, so a program in any Pulumi language declares the same resources.
 */
export class TrustedRootsProvider implements provider.Provider {
  constructor(
    readonly version: string,
    readonly schema: string,
  ) {}

  async check(urn: string, olds: unknown, news: unknown): Promise<provider.CheckResult> {
    const result = await implementationFor(urn).check(asValues(olds), asValues(news));
    // As given (secrets included): the engine keeps the caller's secret markings on inputs.
    return result.failures && result.failures.length > 0 ? { failures: result.failures } : { inputs: news as Values };
  }

  async diff(id: string, urn: string, olds: unknown, news: unknown): Promise<provider.DiffResult> {
    return implementationFor(urn).diff(id, asValues(olds), asValues(news));
  }

  async create(urn: string, inputs: unknown): Promise<provider.CreateResult> {
    const implementation = implementationFor(urn);
    const result = await timedOperation(urn, "create", () => implementation.create(asValues(inputs)));
    return { id: result.id, outs: withSecretProperties(result.outs ?? {}, implementation.secretOutputs) };
  }

  async read(id: string, urn: string, props?: unknown): Promise<provider.ReadResult> {
    const implementation = implementationFor(urn);
    const result = await implementation.read(id, asValues(props));
    return {
      id: result.id,
      props: result.props && withSecretProperties(result.props, implementation.secretOutputs),
      inputs: result.inputs && withSecretProperties(result.inputs, implementation.secretOutputs),
    };
  }

  async update(id: string, urn: string, olds: unknown, news: unknown): Promise<provider.UpdateResult> {
    const implementation = implementationFor(urn);
    const result = await timedOperation(urn, "update", () => implementation.update(id, asValues(olds), asValues(news)));
    return { outs: withSecretProperties(result.outs ?? {}, implementation.secretOutputs) };
  }

  async delete(id: string, urn: string, props: unknown): Promise<void> {
    const implementation = implementationFor(urn);
    await timedOperation(urn, "delete", () => implementation.delete(id, asValues(props)));
  }

  async invoke(token: string, inputs: unknown): Promise<provider.InvokeResult> {
    if (token !== FETCH_ROOTS_FUNCTION) throw new Error(`the trusted-roots provider has no function ${token}`);
    const parsed = fetchRootsInputSchema.safeParse(plainValues(inputs));
    if (!parsed.success) return { failures: describeIssues(parsed.error).map(({ property, reason }) => ({ property, reason })) };
    const { ldapPassword, thumbprints, proxy, proxyCredentials, caBundle, timeoutSeconds } = parsed.data;
    const fetched = await fetchRoots({
      // The schema's refine made sure exactly one source is set.
      source: remoteSourceOf(parsed.data)!,
      thumbprints: thumbprints.map(normalizeThumbprint),
      fetch: { proxy, proxyCredentials, ca: caBundle, timeoutSeconds },
      name: FETCH_ROOTS_FUNCTION,
      ldapPassword,
    });
    const outputs: z.infer<typeof fetchRootsResultSchema> = {
      pems: fetched.certificates.map((certificate) => certificate.pem),
      subjects: fetched.certificates.map((certificate) => certificate.subject),
      leftOut: fetched.leftOut.map((certificate) => certificate.subject),
    };
    return { outputs };
  }

  async construct(name: string, type: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions): Promise<provider.ConstructResult> {
    // The components (and with them the SDK's whole index: about 1.2 CPU-s) load on the first construct only; a
    // plugin started for the custom resources' CRUD never needs them.
    if (type === WEB_SERVER_TRUST_TYPE) {
      const { WebServerTrust } = await import("../WebServerTrust.js");
      const server = await serverFromInputs({ ...inputs, name }, name);
      const component = new WebServerTrust(name, server, options);
      return { urn: component.urn, state: { report: component.report } };
    }
    if (type === TRUST_FLEET_TYPE) {
      const parsed = trustFleetInputsSchema.safeParse({ ...inputs, servers: await known(inputs.servers) });
      if (!parsed.success) throw new Error(describe(parsed.error, name));
      const servers = await Promise.all(parsed.data.servers.map((entry, index) => serverFromInputs(entry, `${name}.servers[${index}]`)));
      const { TrustFleet } = await import("../TrustFleet.js");
      const component = new TrustFleet(name, { servers, rollout: parsed.data.rollout }, options);
      return { urn: component.urn, state: { report: component.report, waves: component.waves } };
    }
    throw new Error(`the trusted-roots provider has no component ${type}`);
  }
}

// A top-level input that carries a secret or a dependency arrives as an Output; its shape (names, certificates)
// must be known to declare the children, so it is awaited. Secret leaves inside stay Outputs and stay secret.
async function known(value: unknown): Promise<unknown> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Output.promise() is the SDK's own way to await a value
  return Output.isInstance(value) ? (value as any).promise() : value;
}

function describe(error: z.ZodError, where: string): string {
  return describeIssues(error).map((issue) => `${where}${issue.property ? `.${issue.property}` : ""}: ${issue.reason}`).join("\n");
}

async function serverFromInputs(entry: unknown, where: string): Promise<FleetServer> {
  const value = (await known(entry)) as Values;
  // Leaves (a secret key, a computed host) stay Outputs; the shape around them is plain.
  const parsed = serverInputSchema.safeParse({ ...value, connection: value?.connection ?? undefined });
  if (!parsed.success) throw new Error(describe(parsed.error, where));
  const server = parsed.data;
  const certificates = (pems: string[], property: string): Certificate[] => pems.flatMap((pem, index) => parseCertificates(pem, { name: `${where}.${property}[${index}]` }));
  return {
    name: server.name,
    connection: server.connection as FleetServer["connection"],
    platform: server.platform,
    roots: requireRoots(certificates(server.roots, "roots"), `${where}.roots`),
    ...Object.fromEntries(CERTIFICATE_LIST_NAMES.filter((list) => list !== "roots").map((list) => [list, certificates(server[list], list)])),
    mode: server.mode,
    afterChange: server.afterChange,
    testCommand: server.testCommand,
    healthCheck: server.healthCheck as FleetServer["healthCheck"],
    javaKeystores: server.javaKeystores,
    javaKeystorePassword: server.javaKeystorePassword as FleetServer["javaKeystorePassword"],
    retainOnDelete: server.retainOnDelete,
    groups: server.groups,
    tags: server.tags,
    previousNames: server.previousNames,
  };
}
