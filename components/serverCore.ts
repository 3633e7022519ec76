import { z } from "zod";
import { PLATFORM_NAMES } from "./platforms";
import { javaKeystoreLocationSchema } from "./platforms/java";
import { afterChangeSchema } from "./resources/afterChangeCore";

// A server is declared in three forms: the stack config (a flattened connection, root-set names), the provider's
// input for multi-language programs (a Connection, PEM text) and the component's arguments (Outputs, parsed
// certificates). What they declare alike is declared here once, with its description, and each form adds its own.

/** The certificate lists a server declares, each with what it holds. */
export const CERTIFICATE_LISTS = {
  roots: "the self-signed roots the server must trust (Windows: LocalMachine\\Root)",
  intermediates: "intermediate CAs: the Windows CA store, or where the Linux family keeps them",
  crossSigned: "cross-signed forms of declared roots (same subject and key, issued by another CA), kept like intermediates",
  clientAuthIssuers: "CAs for the Windows ClientAuthIssuer store, where SChannel checks client chains when ClientAuthTrustMode is 1 or 2",
  distrusted: "roots the server must not trust (Windows: Disallowed)",
} as const;
export type CertificateListName = keyof typeof CERTIFICATE_LISTS;
export const CERTIFICATE_LIST_NAMES = Object.keys(CERTIFICATE_LISTS) as CertificateListName[];

/** The five lists as zod fields of one item kind (a root-set name, PEM text), each empty by default. */
export function certificateListFields<Item extends z.ZodType>(item: Item, describe: (holds: string) => string): { [List in CertificateListName]: z.ZodDefault<z.ZodArray<Item>> } {
  const field = (list: CertificateListName) => z.array(item).default([]).meta({ description: describe(CERTIFICATE_LISTS[list]) });
  return Object.fromEntries(CERTIFICATE_LIST_NAMES.map((list) => [list, field(list)])) as { [List in CertificateListName]: z.ZodDefault<z.ZodArray<Item>> };
}

/** What every form of a server declares alike. */
export const serverTraitsSchema = z.strictObject({
  platform: z.enum(PLATFORM_NAMES).meta({ description: "The trust-store family." }),
  afterChange: afterChangeSchema.optional().meta({ description: "What runs after a change; Windows default: a reboot." }),
  testCommand: z.string().min(1).optional().meta({ description: "Runs on the server after the change (e.g. `iisreset /status`); a non-zero exit fails the rollout." }),
  groups: z.array(z.string()).default([]).meta({ description: "Labels for policies (in the stack config they also pick the root sets)." }),
  tags: z.record(z.string(), z.string()).default({}).meta({ description: "Labels for policies." }),
  javaKeystores: z
    .array(javaKeystoreLocationSchema)
    .default([])
    .meta({ description: "Java keystores that hold the server's roots too (Linux paths on Linux, drive paths on Windows): the JVM's cacerts, a JDK's own, or an application truststore (its password is javaKeystorePassword)." }),
});
export type ServerTraits = z.input<typeof serverTraitsSchema>;

/** What the last run did on one server. */
export const serverReportSchema = z.object({
  server: z.string().meta({ description: "The server's name." }),
  status: z.enum(["changed", "in sync"]).meta({ description: "Whether the run changed a store." }),
  imported: z.array(z.string()).meta({ description: "Subjects imported." }),
  removed: z.array(z.string()).meta({ description: "Subjects removed." }),
  revision: z.string().meta({ description: "The store revision; chain your own resources on it." }),
});
export type ServerReport = z.infer<typeof serverReportSchema>;
