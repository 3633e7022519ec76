import { z } from "zod";

export const rolloutSchema = z
  .strictObject({
    /** Servers per wave. */
    batchSize: z.number().int().positive().optional().meta({ description: "Servers per wave." }),
    /** Servers per wave as a percentage of the fleet (at least one). */
    percent: z.number().positive().max(100).optional().meta({ description: "Servers per wave, in percent of the fleet." }),
    /** Size of a first, canary wave; the rest follow in batchSize/percent waves. */
    firstWave: z.number().int().positive().optional().meta({ description: "Size of a first, canary wave." }),
  })
  .refine((rollout) => !(rollout.batchSize && rollout.percent), { message: "set batchSize or percent, not both", path: ["batchSize"] });
export type Rollout = z.input<typeof rolloutSchema>;

/** Split `count` servers (by index, in order) into waves. Default: 25% of the fleet per wave. */
export function waves(count: number, rollout: Rollout = {}): number[][] {
  const size = rollout.batchSize ?? Math.max(1, Math.floor((count * (rollout.percent ?? 25)) / 100));
  const result: number[][] = [];
  let next = 0;
  if (rollout.firstWave && count > 0) {
    const first = Math.min(rollout.firstWave, count);
    result.push(Array.from({ length: first }, (_, index) => index));
    next = first;
  }
  while (next < count) {
    const end = Math.min(count, next + size);
    result.push(Array.from({ length: end - next }, (_, index) => next + index));
    next = end;
  }
  return result;
}
