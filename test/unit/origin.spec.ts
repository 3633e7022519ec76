import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sourceOrigin } from "../../bench/origin";

describe("generated reports name the commit they measured", () => {
  it("a clean tree, a tree with uncommitted changes, and no git at all say so", () => {
    const repo = mkdtempSync(join(tmpdir(), "trusted-roots-origin-"));
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo, encoding: "utf8" }).trim();
    git("init", "-q");
    writeFileSync(join(repo, "file"), "one\n");
    git("add", "file");
    git("commit", "-q", "-m", "one");
    const commit = git("rev-parse", "--short=12", "HEAD");
    assert.equal(sourceOrigin(repo), `commit ${commit} (clean tree)`);
    writeFileSync(join(repo, "file"), "two\n");
    assert.equal(sourceOrigin(repo), `commit ${commit} (with uncommitted changes)`);
    assert.equal(sourceOrigin(mkdtempSync(join(tmpdir(), "trusted-roots-no-git-"))), "a tree outside git (no commit recorded)");
  });
});
