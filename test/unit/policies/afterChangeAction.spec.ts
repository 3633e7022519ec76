import { strict as assert } from "node:assert";
import { afterChangeAction } from "../../../policies/afterChangeAction";
import { WEB_SERVER_TRUST } from "../../../policies/shared";
import { policyFixtures, resourceArgs, serverProps, validate } from "../../support/policyArgs";

describe("policy after-change-action", function () {
  this.timeout(30_000);
  const { contoso } = policyFixtures();
  describe("cases", () => {
    it("asks Windows servers for a reboot, a service restart for a health check, and reboots for a health check", async () => {
      assert.match(((await validate(afterChangeAction, resourceArgs(WEB_SERVER_TRUST, "iis01", serverProps([contoso], { platform: "windows", afterChange: { action: "none" } })))) as string[])[0], /has no reboot: SChannel and HTTP\.sys/);
      const restart = { platform: "windows", afterChange: { action: "restart", preset: "iis" } };
      assert.match(((await validate(afterChangeAction, resourceArgs(WEB_SERVER_TRUST, "iis04", serverProps([contoso], restart)))) as string[])[0], /refreshes neither SChannel/);
      assert.deepEqual(await validate(afterChangeAction, resourceArgs(WEB_SERVER_TRUST, "iis05", serverProps([contoso], { ...restart, healthCheck: { url: "https://iis05/" } }))), []);
      assert.match(((await validate(afterChangeAction, resourceArgs(WEB_SERVER_TRUST, "iis02", serverProps([contoso], { platform: "windows", afterChange: { action: "reboot" } })))) as string[])[0], /reboots after a change but has no health check/);
      assert.deepEqual(await validate(afterChangeAction, resourceArgs(WEB_SERVER_TRUST, "iis03", serverProps([contoso], { platform: "windows", afterChange: { action: "reboot" }, healthCheck: { url: "https://iis03/" } }))), []);
      assert.equal(afterChangeAction.enforcementLevel, "advisory");
    });
  });
});
