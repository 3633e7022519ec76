import { z } from "zod";
import { serverReportSchema } from "../serverCore";
import { rolloutSchema } from "../rollout";
import { afterChangeInputsSchema, afterChangeResultSchema, afterChangeSchema, REBOOT_INPUTS, RESTART_INPUTS } from "../resources/afterChangeCore";
import { clientCertificateSchema, healthCheckSchema } from "../resources/health";
import { fetchedFromSchema, observedSummarySchema, rootInputSchema, trustStoreInputsSchema, trustStoreStateSchema } from "../resources/trustStoreCore";
import { ldapSourceSchema } from "../sources/schema";
import { javaKeystoreLocationSchema } from "../platforms/java";
import { bastionSchema, sshTargetSchema } from "../transport/target";
import { FETCH_ROOTS_FUNCTION, PACKAGE_NAME, PACKAGE_VERSION, RESOURCE_NAMES, TRUST_FLEET_TYPE, WEB_SERVER_TRUST_TYPE } from "../typeTokens";
import {
  fetchRootsInputSchema,
  fetchRootsResultSchema,
  serverInputSchema,
  trustFleetInputsSchema,
  trustFleetOutputsSchema,
  webServerTrustOutputsSchema,
} from "./componentSchemas";
import { jsonSchemas, pulumiObject, type PulumiObject } from "./schemaFromZod";

// The package schema the plugin serves (GetSchema) and `schema.json` holds: what YAML checks programs against and
// what SDK generators read. Generated from the zod schemas the provider validates with (schemaFromZod.ts), so the
// two cannot drift; only the names of the types and which schema feeds which resource are written here.

const typeRef = (id: string) => `#/types/${PACKAGE_NAME}:index:${id}`;

/** Pulumi's named object types, each from the zod schema that validates it. */
const TYPES: Record<string, z.ZodType> = {
  Connection: sshTargetSchema,
  Bastion: bastionSchema,
  RootInput: rootInputSchema,
  FetchedFrom: fetchedFromSchema,
  ClientCertificate: clientCertificateSchema,
  HealthCheck: healthCheckSchema,
  AfterChange: afterChangeSchema,
  LdapSource: ldapSourceSchema,
  Rollout: rolloutSchema,
  Server: serverInputSchema,
  ServerReport: serverReportSchema,
  ObservedSummary: observedSummarySchema,
  JavaKeystore: javaKeystoreLocationSchema,
};

type Shape = Record<string, z.ZodType>;
const without = (shape: Shape, ...keys: readonly string[]): Shape => Object.fromEntries(Object.entries(shape).filter(([key]) => !keys.includes(key)));

/** Each resource, component and function: its description, what it takes and what its state (or result) holds. */
interface Entry {
  description: string;
  inputs: Shape;
  /** Outputs: a custom resource's state is its inputs plus these; a component's and a function's are these alone. */
  outputs: Shape;
}

// `kind` comes from the resource type, never from the program.
const afterChangeCommon = without(afterChangeInputsSchema.shape, "kind", ...REBOOT_INPUTS, ...RESTART_INPUTS);
const afterChangeState = { ...afterChangeResultSchema.shape, kind: afterChangeInputsSchema.shape.kind };

const RESOURCES: Record<string, Entry & { component?: boolean }> = {
  [`${PACKAGE_NAME}:index:${RESOURCE_NAMES.trustStore}`]: {
    description: "One server's trust store, kept as declared.",
    inputs: trustStoreInputsSchema.shape,
    outputs: { ...trustStoreInputsSchema.shape, ...trustStoreStateSchema.shape },
  },
  [`${PACKAGE_NAME}:index:${RESOURCE_NAMES.hostReboot}`]: {
    description: "Reboots a server after its store changed and waits for a new boot id; then the test command and health check.",
    inputs: without(afterChangeInputsSchema.shape, "kind", ...RESTART_INPUTS),
    outputs: { ...without(afterChangeInputsSchema.shape, ...RESTART_INPUTS), ...afterChangeState },
  },
  [`${PACKAGE_NAME}:index:${RESOURCE_NAMES.serviceRestart}`]: {
    description: "Restarts or reloads the web service after the store changed.",
    inputs: without(afterChangeInputsSchema.shape, "kind", ...REBOOT_INPUTS),
    outputs: { ...without(afterChangeInputsSchema.shape, ...REBOOT_INPUTS), ...afterChangeState },
  },
  [`${PACKAGE_NAME}:index:${RESOURCE_NAMES.healthCheck}`]: {
    description: "Runs the test command and health check after the store changed.",
    inputs: afterChangeCommon,
    outputs: { ...afterChangeCommon, ...afterChangeState },
  },
  [`${PACKAGE_NAME}:index:${RESOURCE_NAMES.waveGate}`]: { description: "The point between two rollout waves (internal).", inputs: {}, outputs: {} },
  [WEB_SERVER_TRUST_TYPE]: {
    component: true,
    description: "One web server's trust: its stores, then the after-change action with the health check.",
    inputs: without(serverInputSchema.shape, "name"),
    outputs: webServerTrustOutputsSchema.shape,
  },
  [TRUST_FLEET_TYPE]: {
    component: true,
    description: "Many servers rolled out in waves; a failing wave leaves the later ones untouched.",
    inputs: trustFleetInputsSchema.shape,
    outputs: trustFleetOutputsSchema.shape,
  },
};

const FUNCTIONS: Record<string, Entry> = {
  [FETCH_ROOTS_FUNCTION]: {
    description:
      "Roots from where the CA publishes them (a URL, an AD CS certsrv site, or an LDAP directory), fetched when the program runs; only certificates a pinned thumbprint names are returned, and each pin must be found.",
    inputs: fetchRootsInputSchema.shape,
    outputs: fetchRootsResultSchema.shape,
  },
};

/** Every named type, resource and function as Pulumi objects: inputs as programs give them, outputs as states hold them. */
function convert() {
  const entries = { ...RESOURCES, ...FUNCTIONS };
  const byId = (side: "inputs" | "outputs") => Object.fromEntries(Object.entries(entries).map(([token, entry]) => [`${side} of ${token}`, z.object(entry[side])]));
  const inputs = jsonSchemas({ ...TYPES, ...byId("inputs") }, "input", typeRef);
  // The named types are given here too, so the outputs refer to them instead of spelling them out.
  const outputs = jsonSchemas({ ...TYPES, ...byId("outputs") }, "output", typeRef);
  const object = (json: Record<string, unknown>, where: string) => pulumiObject(json, where, typeRef);
  return {
    type: (id: string) => object(inputs[id], id),
    inputsOf: (token: string) => object(inputs[`inputs of ${token}`], `${token} inputs`),
    outputsOf: (token: string) => object(outputs[`outputs of ${token}`], `${token} outputs`),
  };
}

/** Pulumi's spelling of required keys: left out when none are. */
const requiredAs = (name: string, keys: readonly string[]) => (keys.length > 0 ? { [name]: keys } : {});
const objectSpec = ({ description, properties, required }: PulumiObject) => ({ type: "object", ...(description ? { description } : {}), properties, ...requiredAs("required", required) });
const propertiesOf = ({ properties, required }: PulumiObject) => ({ properties, ...requiredAs("required", required) });

function generate() {
  const converted = convert();
  const resources = Object.fromEntries(
    Object.entries(RESOURCES).map(([token, { component, description }]) => {
      const inputs = converted.inputsOf(token);
      const outputs = converted.outputsOf(token);
      return [
        token,
        {
          ...(component ? { isComponent: true } : {}),
          description,
          inputProperties: inputs.properties,
          ...requiredAs("requiredInputs", inputs.required),
          ...propertiesOf(outputs),
        },
      ];
    }),
  );
  const functions = Object.fromEntries(
    Object.entries(FUNCTIONS).map(([token, { description }]) => [token, { description, inputs: propertiesOf(converted.inputsOf(token)), outputs: propertiesOf(converted.outputsOf(token)) }]),
  );
  const types = Object.fromEntries(Object.keys(TYPES).map((id) => [`${PACKAGE_NAME}:index:${id}`, objectSpec(converted.type(id))]));
  return { types, resources, functions };
}

export const PACKAGE_SCHEMA = {
  name: PACKAGE_NAME,
  displayName: "trusted-roots",
  version: PACKAGE_VERSION,
  description: "Keep the trusted root CA stores of a web server fleet exactly as declared.",
  keywords: ["pki", "certificates", "trust-store", "iis", "nginx", "category/utility", "kind/component"],
  license: "Apache-2.0",
  repository: "https://github.com/trusted-roots/pulumi-trusted-roots",
  language: {
    nodejs: { packageName: "pulumi-trusted-roots" },
    python: { packageName: "pulumi_trusted_roots", pyproject: { enabled: true }, respectSchemaVersion: true },
    go: { importBasePath: "github.com/trusted-roots/pulumi-trusted-roots/sdk/go/trustedroots", respectSchemaVersion: true },
    csharp: { rootNamespace: "Pulumi", packageReferences: { Pulumi: "3.*" }, respectSchemaVersion: true },
  },
  ...generate(),
};
