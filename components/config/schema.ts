import { z } from "zod";
import { STORE_MODES } from "../plan";
import { TLS_VERSIONS } from "../resources/health";
import { rolloutSchema } from "../rollout";
import { afterChangeSchema } from "../resources/afterChangeCore";
import { httpUrl, ldapSourceSchema, proxyUrl, thumbprintList } from "../sources/schema";
import { hostKeyPinSchema } from "../transport";
import { certificateListFields, serverTraitsSchema } from "../serverCore";

/** The namespace of the stack config: `trusted-roots:servers`, `trusted-roots:rootSets`, ... */
export const CONFIG_NAMESPACE = "trusted-roots";

/** Keys read as Pulumi secrets (`pulumi config set --secret`), never through the fleet schema. */
export const SECRET_CONFIG_KEYS = ["privateKey", "passphrase", "password", "privateKeys", "healthClientKey", "bastionPrivateKey", "ldapPassword", "proxyCredentials", "javaKeystorePassword"] as const;

const hostKey = hostKeyPinSchema;

const healthCheckConfigSchema = z.strictObject({
  url: z.string().url("must be an http:// or https:// URL"),
  expectStatus: z.number().int().min(100).max(599).optional(),
  /** PEM file of the client certificate to present; its key comes from the secret `healthClientKey`. */
  clientCertificateFile: z.string().optional(),
  caCertificateFile: z.string().optional(),
  insecureSkipTlsVerify: z.boolean().optional(),
  /** "1.2" for IIS sites that request the client certificate by renegotiation (impossible under TLS 1.3). */
  tlsVersion: z.enum(TLS_VERSIONS).optional(),
  timeoutSeconds: z.number().positive().optional(),
});

/**
 * A jump host: always pinned. Its key is the secret `bastionPrivateKey`, else the servers' key when
 * `shareServerKey` says so, else the ssh-agent; never the servers' password.
 */
const bastionConfigSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().min(1).optional(),
  hostKey,
  shareServerKey: z.boolean().optional(),
});

const serverName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "use letters, digits, '.', '_' and '-' (it names Pulumi resources)");

const serverSchema = z.strictObject({
  name: serverName,
  /** Names this server had before: its resources are renamed in place (Pulumi aliases), not replaced. */
  previousNames: z.array(serverName).default([]),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().min(1).optional(),
  ...serverTraitsSchema.shape,
  hostKey: hostKey.optional(),
  insecureSkipHostKeyCheck: z.boolean().optional(),
  sudo: z.boolean().optional(),
  /** Root sets for this server beyond its groups'. */
  roots: z.array(z.string()).default([]),
  healthCheck: healthCheckConfigSchema.optional(),
  bastion: bastionConfigSchema.optional(),
});

/** How a root set's url, certsrv or ldap source is fetched (at every preview and up); the proxy is for HTTP only. */
const sourceFetchSchema = z.strictObject({
  /** An HTTP proxy, http://proxy:3128; environment variables such as HTTPS_PROXY are not read. Its login is the secret proxyCredentials. */
  proxy: proxyUrl.optional(),
  /** PEM file of the CAs that issue the source's own TLS certificate (an internal HTTPS server). */
  caBundleFile: z.string().min(1).optional(),
  /** Per request, from connecting to the last byte. Default 30. */
  timeoutSeconds: z.number().positive().max(600).optional(),
});

const rootSetSchema = z
  .strictObject({
    /** PEM, DER or PKCS#7 files, relative to the project directory. */
    files: z.array(z.string()).default([]),
    /** Inline PEM. */
    pem: z.string().optional(),
    /** A URL serving the roots (DER, PEM or PKCS#7), fetched at every preview; needs thumbprints. */
    url: httpUrl("http://pki.contoso.com/contoso-root.crt").optional(),
    /** An AD CS web enrollment site (http://ca01/certsrv): the CA certificate chain of every renewal; needs thumbprints. */
    certsrv: httpUrl("http://ca01/certsrv").optional(),
    /** A directory's cACertificate values (AD: CN=Certification Authorities,CN=Public Key Services,...); needs thumbprints. */
    ldap: ldapSourceSchema.optional(),
    fetch: sourceFetchSchema.optional(),
    /**
     * Expected thumbprints (SHA-1 or SHA-256, any common spelling): a typo'd or swapped file is caught. For url,
     * certsrv and ldap they are the pins: only fetched certificates they name are used, and each must be found.
     */
    thumbprints: thumbprintList,
  })
  .superRefine((set, context) => {
    const local = set.files.length > 0 || set.pem !== undefined;
    const remote = [set.url, set.certsrv, set.ldap].filter((value) => value !== undefined).length;
    if (!local && remote === 0) context.addIssue({ code: "custom", message: "a root set needs files, pem, url, certsrv or ldap" });
    if (remote > 1 || (remote === 1 && local)) {
      context.addIssue({ code: "custom", message: "a root set takes its certificates from one place: files and pem, or url, or certsrv, or ldap; declare another set for the rest" });
    }
    if (set.ldap && set.fetch?.proxy) context.addIssue({ code: "custom", path: ["fetch", "proxy"], message: "a proxy applies to url and certsrv sources (HTTP), not to ldap" });
    if (remote === 1 && set.thumbprints.length === 0) {
      context.addIssue({
        code: "custom",
        path: ["thumbprints"],
        message: "a fetched root set needs thumbprints: pin each root you verified out of band (certutil -dump, or openssl x509 -noout -fingerprint -sha256); only certificates they name are used",
      });
    }
    if (set.fetch && remote === 0) context.addIssue({ code: "custom", path: ["fetch"], message: "fetch settings apply to url, certsrv and ldap sources only" });
  });

/** A group names root sets for each certificate list of its servers. */
const groupSchema = z.strictObject(certificateListFields(z.string(), (holds) => `root sets of ${holds}`));
/** What a server of no group gets from its groups. */
export const EMPTY_GROUP = groupSchema.parse({});

/** An inventory file: `{ servers: [...] }` or the bare list, with exactly the keys of `servers` entries. */
export const inventoryFileSchema = z.strictObject({ servers: z.array(serverSchema) });

export const fleetConfigSchema = z.strictObject({
  servers: z.array(serverSchema).default([]),
  /** A YAML or JSON file (relative to the project) holding more servers: a big fleet need not be a big config. */
  inventory: z.string().min(1).optional(),
  rootSets: z.record(z.string(), rootSetSchema).default({}),
  groups: z.record(z.string(), groupSchema).default({}),
  mode: z.enum(STORE_MODES).default("exact"),
  rollout: rolloutSchema.default({}),
  defaults: z
    .strictObject({
      user: z.string().optional(),
      port: z.number().int().optional(),
      afterChange: afterChangeSchema.optional(),
      healthCheck: healthCheckConfigSchema.optional(),
      testCommand: z.string().optional(),
      bastion: bastionConfigSchema.optional(),
    })
    .default({}),
  retainOnDelete: z.boolean().default(false),
}).refine((config) => config.servers.length > 0 || config.inventory !== undefined, {
  message: `declare at least one server, in ${CONFIG_NAMESPACE}:servers or in a file named by ${CONFIG_NAMESPACE}:inventory`,
  path: ["servers"],
});

export type FleetConfig = z.output<typeof fleetConfigSchema>;
export type FleetConfigInput = z.input<typeof fleetConfigSchema>;
export type ServerConfig = FleetConfig["servers"][number];
