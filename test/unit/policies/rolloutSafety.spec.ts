import { strict as assert } from "node:assert";
import { rolloutSafety } from "../../../policies/rolloutSafety";
import { HOST_REBOOT, TRUST_FLEET } from "../../../policies/shared";
import { resourceArgs, validate } from "../../support/policyArgs";

describe("policy rollout-safety", function () {
  this.timeout(30_000);
  describe("cases", () => {
    it("limits wave size to a share of the fleet (one server per wave always allowed)", async () => {
      const fleet = (serverCount: number, rollout: object, config = {}) => validate(rolloutSafety, resourceArgs(TRUST_FLEET, "prod", { serverCount, rollout }, config));
      assert.deepEqual(await fleet(8, {}), []);
      assert.deepEqual(await fleet(3, { batchSize: 1 }), []);
      assert.match(((await fleet(8, { batchSize: 4 })) as string[])[0], /wave 1 holds 4 of 8 servers, more than 25% \(2\)/);
      assert.deepEqual(await fleet(8, { batchSize: 4 }, { maxWavePercent: 50 }), []);
    });

    it("requires a timeout on every reboot", async () => {
      assert.deepEqual(await validate(rolloutSafety, resourceArgs(HOST_REBOOT, "r", { timeoutSeconds: 600 })), []);
      assert.match(((await validate(rolloutSafety, resourceArgs(HOST_REBOOT, "r", {}))) as string[])[0], /reboots without a timeout/);
    });
  });
});
