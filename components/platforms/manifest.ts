import { createHash } from "node:crypto";
import { z } from "zod";
import { STORE_NAMES, type Manifest, type ManifestEntry, type StoreName } from "./types";

/** The manifest version this code writes; it reads every version up to this one. */
export const MANIFEST_VERSION = 3;

const entrySchema = z.strictObject({
  sha256: z.string().regex(/^[0-9A-F]{64}$/),
  sha1: z.string().regex(/^[0-9A-F]{40}$/),
  subject: z.string(),
  owners: z.array(z.string().min(1)).optional(),
  store: z.enum(STORE_NAMES).optional(),
  installed: z.literal(false).optional(),
});

const manifestSchema = z.object({
  version: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  roots: z.array(entrySchema),
  distrusted: z.array(entrySchema).default([]),
});

export const EMPTY_MANIFEST: Manifest = { version: MANIFEST_VERSION, roots: [], distrusted: [] };

/** Where a host keeps its manifest, and the copy of the last one it replaced. */
export interface ManifestFiles {
  path: string;
  backup: string;
}

/** The backup of a manifest: every apply keeps the manifest it replaces there (the last one it could read). */
export const manifestBackupPath = (path: string): string => `${path}.previous`;

/**
 * The host-side manifest from its bytes. A manifest this version cannot read (not JSON, an unexpected shape,
 * a newer version) is a `problem`: the caller refuses to plan (fail closed), because the roots it lists would
 * otherwise look like an administrator's and a root retired later would never leave the host.
 */
export function parseManifest(text: string, files: ManifestFiles): { manifest: Manifest; problem?: string } {
  if (text.trim() === "") return { manifest: EMPTY_MANIFEST };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { manifest: EMPTY_MANIFEST, problem: unreadable(files, `is not JSON (${(error as Error).message})`) };
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === "number" && version > MANIFEST_VERSION) {
    return {
      manifest: EMPTY_MANIFEST,
      problem:
        `the manifest ${files.path} was written by a newer trusted-roots (manifest version ${version}; this one reads up to ` +
        `${MANIFEST_VERSION}); nothing was changed: upgrade trusted-roots (the provider plugin and the package) to the version that wrote it`,
    };
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { manifest: EMPTY_MANIFEST, problem: unreadable(files, `has an unexpected shape (${issue?.path.join(".") || "top level"}: ${issue?.message})`) };
  }
  return { manifest: parsed.data };
}

function unreadable(files: ManifestFiles, why: string): string {
  return (
    `the manifest ${files.path} ${why}; nothing was changed, because without it the roots this tool installed cannot be told ` +
    `from an administrator's. Fix: restore the copy the last apply kept (cp -p '${files.backup}' '${files.path}'), or, if there is ` +
    `none, delete the file: the roots it listed are then treated as an administrator's and never removed by this tool`
  );
}

/** Entries in their canonical order and form, so the same holds always write the same bytes. */
export function renderManifest(manifest: Manifest): string {
  const canonical = (entries: readonly ManifestEntry[]) =>
    [...entries]
      .sort((a, b) => (a.store ?? "").localeCompare(b.store ?? "") || a.sha256.localeCompare(b.sha256))
      .map(({ sha256, sha1, subject, store, installed, owners }) => ({
        sha256,
        sha1,
        subject,
        ...(store ? { store } : {}),
        ...(installed === false ? { installed } : {}),
        ...(owners ? { owners } : {}),
      }));
  return JSON.stringify({ version: MANIFEST_VERSION, roots: canonical(manifest.roots), distrusted: canonical(manifest.distrusted) }, null, 2) + "\n";
}

/** The manifest's entries that count for `store`: its own, and those written before stores were recorded. */
export function entriesFor(entries: readonly ManifestEntry[], store: StoreName): ManifestEntry[] {
  return entries.filter((entry) => entry.store === undefined || entry.store === store);
}

/** The digest an apply compares under its lock: SHA-256 of the file's bytes, or "absent". */
export function manifestDigest(raw: Buffer | undefined): string {
  return raw === undefined ? "absent" : createHash("sha256").update(raw).digest("hex");
}
