import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describeLab } from "../support/lab";

const DEMO = resolve(__dirname, "../../scripts/demo.js");

describeLab("npm run demo", function () {
  this.timeout(600_000);

  it("runs the program on the local fleet, detects the drift and repairs it, then cleans up", async () => {
    const { stdout } = await promisify(execFile)("node", [DEMO], { maxBuffer: 64 * 1024 * 1024 });
    const lines = stdout.split("\n").map((line) => line.trim());
    for (const host of ["h1", "h2", "h3"]) {
      assert.ok(lines.includes(`${host}: client certificate -> HTTP 400 (not trusted yet)`), host);
      assert.ok(lines.some((line) => line.startsWith(`${host}: changed, imported`) && line.endsWith("HTTP 200")), host);
    }
    assert.ok(lines.includes("h2: client certificate -> HTTP 400 (clients locked out)"));
    assert.ok(lines.includes("drift detected on h2: the preview failed as a pipeline would"), "the engine's drift verdict, on h2 only");
    const changes = lines.find((line) => line.startsWith("changes: "));
    assert.ok(changes, "the repair printed its changes");
    const { same, ...changed } = JSON.parse(changes.slice("changes: ".length)) as Record<string, number>;
    assert.deepEqual(changed, { update: 2 }, "the repair touched only h2's store and restart");
    assert.ok(same >= 9, `the rest stayed the same (${same})`);
    assert.equal(lines.filter((line) => line === "h2: client certificate -> HTTP 200").length, 1, "repaired");
    assert.equal(lines.filter(Boolean).pop(), "done");
  });
});
