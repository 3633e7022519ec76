import { createHash } from "node:crypto";

/** One of `count` shards of a fleet, numbered from 1: `--shard 2/4`. */
export interface Shard {
  index: number;
  count: number;
}

/** "K/N" as a shard; anything else names the form it wants. */
export function parseShard(text: string): Shard {
  const match = /^([1-9][0-9]*)\/([1-9][0-9]*)$/.exec(text.trim());
  const [index, count] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  if (!match || index > count) throw new Error(`--shard: expected K/N with 1 <= K <= N (e.g. 2/4 for the second of four runners), got ${JSON.stringify(text)}`);
  return { index, count };
}

/**
 * Whether a server falls in this shard. Decided by its name alone (SHA-256, not its place in the inventory), so
 * every runner of a job matrix agrees without talking to the others, each server lands in exactly one shard, and
 * adding a server moves no other.
 */
export function inShard(serverName: string, shard: Shard): boolean {
  const bucket = createHash("sha256").update(serverName).digest().readUInt32BE(0) % shard.count;
  return bucket === shard.index - 1;
}
