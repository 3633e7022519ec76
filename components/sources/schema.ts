import { z } from "zod";
import { normalizeThumbprint } from "../certificates";
import { hasUrlCredentials } from "./redact";

// The sources' own inputs, shared by the stack config and the fetchRoots function. No network code here: the
// config check loads this module, and only a stack with a remote source needs undici or ldapts.

/** A directory that publishes CA certificates, e.g. AD's Certification Authorities container. */
export interface LdapSource {
  /** ldap://host[:port] or ldaps://host[:port]. */
  url: string;
  /** Where to search (scope sub) for entries with a cACertificate. */
  base: string;
  /** Bind as this DN with the password; without it the search is anonymous. */
  bindDn?: string;
  /** Upgrade an ldap:// connection with StartTLS before binding. */
  startTls?: boolean;
}

/** Why a bind would send its password in clear text (ldap:// without StartTLS), with the fix; undefined when it would not. */
export function cleartextBindProblem(source: Pick<LdapSource, "url" | "bindDn" | "startTls">): string | undefined {
  return source.bindDn && /^ldap:/i.test(source.url) && !source.startTls
    ? "a bind over ldap:// without startTls sends the password in clear text; use ldaps://host (port 636) or set startTls: true"
    : undefined;
}


// A URL in plain config or invoke input is stored and printed as it is: credentials in it would be too.
const withoutCredentials = (url: z.ZodString, remedy: string) =>
  url.refine((value) => !hasUrlCredentials(value), `must not carry credentials (user:password@): plain config is stored and shown in clear; ${remedy}`);

export const httpUrl = (example: string) => withoutCredentials(z.string().regex(/^https?:\/\/[^\s/?#]+/i, `must be an http:// or https:// URL, e.g. ${example}`), "a CA publishes its roots without a login");

/** An HTTP proxy's address; its user:password is a secret of its own (`proxyCredentials`). */
export const proxyUrl = withoutCredentials(
  z.string().regex(/^https?:\/\/[^\s/?#]+/i, "must be an http:// URL, e.g. http://proxy.corp:3128"),
  "give the proxy as http://proxy.corp:3128 and its user:password as the secret proxyCredentials (pulumi config set --secret trusted-roots:proxyCredentials)",
);

/** A directory's cACertificate values (AD: CN=Certification Authorities,CN=Public Key Services,...). */
export const ldapSourceSchema = z
  .strictObject({
    url: withoutCredentials(
      z.string().regex(/^ldaps?:\/\/[^\s/?#]+\/?$/i, "must be ldap://host[:port] or ldaps://host[:port], e.g. ldaps://dc01.contoso.com"),
      "bind with bindDn and the secret ldapPassword",
    ).meta({ description: "ldap://host[:port] or ldaps://host[:port]." }),
    base: z.string().min(1).meta({
      description: "Where to search (scope sub), e.g. AD's CN=Certification Authorities,CN=Public Key Services,CN=Services,CN=Configuration,DC=...",
    }),
    /** Without it the search is anonymous; its password is the secret ldapPassword. */
    bindDn: z.string().min(1).optional().meta({ description: "Bind as this DN (its password is ldapPassword); anonymous without it." }),
    startTls: z.boolean().optional().meta({ description: "Upgrade an ldap:// connection with StartTLS." }),
  })
  .superRefine((source, context) => {
    const problem = cleartextBindProblem(source);
    if (problem) context.addIssue({ code: "custom", path: ["bindDn"], message: problem });
  })
  .meta({ description: "Where a directory publishes CA certificates." });

/** Each pin must be a SHA-1 or SHA-256 thumbprint; the problem names the pin's place. */
export function checkThumbprints(values: readonly string[], context: z.RefinementCtx): void {
  values.forEach((value, index) => {
    try {
      normalizeThumbprint(value);
    } catch (error) {
      context.addIssue({ code: "custom", message: (error as Error).message, path: [index] });
    }
  });
}

export const thumbprintList = z.array(z.string()).default([]).superRefine(checkThumbprints);

