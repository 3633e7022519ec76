import { strict as assert } from "node:assert";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const GOLDEN_ROOT = resolve(__dirname, "../../../test/golden");

/** Compare with test/golden/FOLDER/NAME; UPDATE_GOLDEN=1 rewrites the file instead. */
export function assertGolden(folder: string, name: string, actual: string): void {
  const dir = join(GOLDEN_ROOT, folder);
  const path = join(dir, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, actual);
  }
  assert.equal(actual, readFileSync(path, "utf8"), `${folder}/${name} differs from its golden file (UPDATE_GOLDEN=1 to accept)`);
}
