import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

const REPO = resolve(__dirname, "../..");

/**
 * Where a generated report's figures come from: the commit it measured and whether the tree had uncommitted
 * changes, so a reader can tell a report of released code from one of work in progress.
 */
export function sourceOrigin(repo = REPO): string {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    const commit = git("rev-parse", "--short=12", "HEAD");
    const changes = git("status", "--porcelain", "--untracked-files=no");
    return `commit ${commit} (${changes === "" ? "clean tree" : "with uncommitted changes"})`;
  } catch {
    return "a tree outside git (no commit recorded)";
  }
}
