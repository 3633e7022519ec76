import { strict as assert } from "node:assert";
import { converge, type StoreTarget } from "../../components/store";
import { serviceRestartScript } from "../../components/resources/afterChangeScripts";
import { throwawayRoot } from "../../components/selftest/throwaway";
import { withSession } from "../../components/transport";
import { hostileValues } from "../support/corpus";
import { describeLab, Lab } from "../support/lab";

describeLab("hostile values on a real host: nothing runs", function () {
  this.timeout(180_000);
  let lab: Lab;
  let bootId: string;
  const target = (): StoreTarget => ({ connection: lab.connection(lab.hosts[0]), platform: "debian" });
  const bootIdNow = async () => (await lab.exec(lab.hosts[0], "cat", "/proc/sys/kernel/random/boot_id")).trim();
  // The corpus's commands would create /tmp/pwned-*, files in the working directory, or reboot the host.
  const assertNothingRan = async () => {
    assert.equal((await lab.sh(lab.hosts[0], "ls -a / /tmp /root")).includes("pwned"), false, "no sentinel file");
    assert.equal(await bootIdNow(), bootId, "no reboot");
  };

  before(async () => {
    lab = await Lab.start(1);
    bootId = await bootIdNow();
  });

  after(async () => {
    await lab?.stop();
  });

  it("as certificate subjects: imported and removed as data, stored verbatim in the manifest", async () => {
    const values = hostileValues();
    const roots = values.map((value) => throwawayRoot(new Date(), { commonName: value }));
    const imported = await converge(target(), { roots }, "exact");
    assert.equal(imported.plan.imports.length, values.length);
    assert.equal(imported.after.roots.filter((root) => root.origin === "managed" && root.trusted).length, values.length);
    assert.deepEqual(imported.after.manifest.roots.map((root) => root.subject).sort(), roots.map((root) => root.subject).sort());
    await assertNothingRan();
    const removed = await converge(target(), { roots: [] }, "exact");
    assert.equal(removed.plan.removals.length, values.length);
    await assertNothingRan();
  });

  it("as file names of local anchors that purgeUnmanaged removes", async () => {
    const names = hostileValues().filter((value) => value.trim() && !/[/\0\n\r]/.test(value) && value.length < 200);
    const root = throwawayRoot(new Date(), { commonName: "Foreign Root" });
    for (const name of names) await lab.plantLocalAnchor(lab.hosts[0], `/usr/local/share/ca-certificates/${name}.crt`, root.pem);
    const planted = await converge(target(), { roots: [] }, "exact");
    assert.equal(planted.before.roots.find((entry) => entry.sha256 === root.sha256)?.trusted, true, "the planted root is trusted before the purge");
    const purge = await converge(target(), { roots: [] }, "purgeUnmanaged");
    assert.equal(purge.plan.removals[0].files.length, names.length);
    assert.equal((await lab.sh(lab.hosts[0], "ls /usr/local/share/ca-certificates")).trim(), "");
    assert.equal(purge.after.roots.some((entry) => entry.sha256 === root.sha256), false, "gone from the bundle too");
    await assertNothingRan();
  });

  it("as service names to restart: quoted for the shell, the restart just fails", async () => {
    const refused = hostileValues().filter((value) => value.includes("\0") || value.startsWith("-") || value.trim() === "");
    for (const name of refused) assert.throws(() => serviceRestartScript("debian", name), /NUL byte|may not be empty or start with "-"/, JSON.stringify(name));
    const names = hostileValues().filter((value) => !refused.includes(value));
    await withSession(lab.connection(lab.hosts[0]), async (session) => {
      for (const name of names) {
        const result = await session.exec(serviceRestartScript("debian", name));
        assert.notEqual(result.exitCode, 0, `${JSON.stringify(name)} is no service`);
      }
    });
    await assertNothingRan();
  });
});
