import { z } from "zod";
import { STORE_MODES } from "../plan";
import { rolloutSchema } from "../rollout";
import { checkThumbprints, httpUrl, ldapSourceSchema, proxyUrl } from "../sources/schema";
import { DEFAULT_SOURCE_TIMEOUT_SECONDS } from "../sources";
import { certificateListFields, serverReportSchema, serverTraitsSchema } from "../serverCore";

// What multi-language programs give the components and fetchRoots, and what they get back: the provider validates
// with these, and the package schema is generated from them.

/** One server as a multi-language program declares it: certificates as PEM text, everything else as in TypeScript. */
export const serverInputSchema = z
  .strictObject({
    name: z.string().min(1).meta({ description: "Unique within the fleet; names its resources." }),
    // Validated where it is used: its leaves may be Outputs (a secret key, a computed host).
    connection: z.unknown().meta({ pulumiType: "Connection", description: "How to reach the server over SSH; a secret in the state.", secret: true }),
    ...serverTraitsSchema.shape,
    ...certificateListFields(z.string(), (holds) => `PEM text (each string may hold several) of ${holds}.`),
    mode: z.enum(STORE_MODES).optional().meta({ description: "What else may be removed." }),
    healthCheck: z.unknown().optional().meta({ pulumiType: "HealthCheck", description: "An HTTPS request proving the fix.", secret: true }),
    // Validated by the TrustStore it reaches: a secret arrives as an Output.
    javaKeystorePassword: z.unknown().optional().meta({ pulumiType: "string", description: "The password of the server's application truststores (javaKeystores of kind file).", secret: true }),
    retainOnDelete: z.boolean().optional().meta({ description: "Leave the roots on the server when removed from the program." }),
    previousNames: z.array(z.string()).optional().meta({ description: "Names this server had before: renamed in place, not replaced." }),
  })
  .meta({ description: "One server of a TrustFleet." });

/** A TrustFleet's inputs; each server is checked on its own (serverInputSchema), where its place can be named. */
export const trustFleetInputsSchema = z.strictObject({
  servers: z.array(z.unknown().meta({ pulumiType: "Server" })).meta({ description: "The servers, in rollout order." }),
  rollout: rolloutSchema.optional().meta({ description: "Wave sizes (default: 25 % of the fleet per wave)." }),
});

export const webServerTrustOutputsSchema = z.object({ report: serverReportSchema.meta({ description: "What the last run did on the server." }) });

export const trustFleetOutputsSchema = z.object({
  report: z.array(serverReportSchema).meta({ description: "What the last run did, per server." }),
  waves: z.array(z.array(z.string())).meta({ description: "Server names per wave." }),
});

const PIN_EACH_ROOT = "pin the thumbprint of each root you verified out of band; only certificates they name are used";

/** What fetchRoots takes: one source, its pins, and how to reach it (the stack config's root-set fields, with PEM text for the CA bundle). */
export const fetchRootsInputSchema = z
  .strictObject({
    url: httpUrl("http://pki.contoso.com/contoso-root.crt").optional().meta({ description: "A URL serving DER, PEM or PKCS#7." }),
    certsrv: httpUrl("http://ca01/certsrv").optional().meta({ description: "An AD CS web enrollment site, e.g. http://ca01/certsrv: every renewal's CA chain." }),
    ldap: ldapSourceSchema.optional().meta({ description: "A directory's cACertificate values." }),
    ldapPassword: z.string().optional().meta({ description: "The password of ldap.bindDn.", secret: true }),
        thumbprints: z
      .array(z.string(), { error: PIN_EACH_ROOT })
      .min(1, PIN_EACH_ROOT)
      .superRefine(checkThumbprints)
      .meta({ description: "The pins: SHA-1 or SHA-256 thumbprints verified out of band." }),
    proxy: proxyUrl.optional().meta({ description: "An HTTP proxy for url and certsrv, without a login: http://proxy.corp:3128." }),
    proxyCredentials: z.string().includes(":", { message: "must be user:password" }).optional().meta({ description: "The proxy's login, user:password.", secret: true }),
    caBundle: z.string().optional().meta({ description: "PEM text of the CAs that issue the source's own TLS certificate." }),
    timeoutSeconds: z.number().positive().max(600).optional().meta({ description: `Per request (${DEFAULT_SOURCE_TIMEOUT_SECONDS}).` }),
  })
  .refine((inputs) => [inputs.url, inputs.certsrv, inputs.ldap].filter((source) => source !== undefined).length === 1, {
    message: "give exactly one source: url, certsrv or ldap",
  });

export const fetchRootsResultSchema = z.object({
  pems: z.array(z.string()).meta({ description: "The pinned certificates, as PEM: give them to roots." }),
  subjects: z.array(z.string()).meta({ description: "Their subjects, in the same order." }),
  leftOut: z.array(z.string()).meta({ description: "Subjects the source also answered, not pinned and so left out." }),
});
