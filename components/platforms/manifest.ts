import { createHash } from "node:crypto";
import { z } from "zod";
import type { Manifest } from "./types";

const entrySchema = z.object({
  sha256: z.string().regex(/^[0-9A-F]{64}$/),
  sha1: z.string().regex(/^[0-9A-F]{40}$/),
  subject: z.string(),
  owners: z.array(z.string().min(1)).optional(),
});

const manifestSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  roots: z.array(entrySchema),
  distrusted: z.array(entrySchema).default([]),
});

export const EMPTY_MANIFEST: Manifest = { version: 2, roots: [], distrusted: [] };

/** The host-side manifest from its JSON text; an empty or unreadable one yields a warning, never a throw. */
export function parseManifest(text: string): { manifest: Manifest; warning?: string } {
  if (text.trim() === "") return { manifest: EMPTY_MANIFEST };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { manifest: EMPTY_MANIFEST, warning: `the host's manifest is not JSON (${(error as Error).message}); treating it as empty` };
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    return { manifest: EMPTY_MANIFEST, warning: `the host's manifest has an unexpected shape (${parsed.error.issues[0]?.message}); treating it as empty` };
  }
  return { manifest: parsed.data };
}

export function renderManifest(manifest: Manifest): string {
  return JSON.stringify(manifest, null, 2) + "\n";
}

/** The digest an apply compares under its lock: SHA-256 of the file's bytes, or "absent". */
export function manifestDigest(raw: Buffer | undefined): string {
  return raw === undefined ? "absent" : createHash("sha256").update(raw).digest("hex");
}
