import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where the load test leaves its figures for docs/reliability.md (scripts/reliability-report.ts). */
export const LOAD_FIGURES = join(tmpdir(), "trusted-roots-load-figures.json");
