import { strict as assert } from "node:assert";
import { afterChangeAction } from "../../../policies/afterChangeAction";
import { WEB_SERVER_TRUST } from "../../../policies/shared";
import { policyFixtures, resourceArgs, serverProps, validate } from "../../support/policyArgs";

describe("policy after-change-action", function () {
  this.timeout(30_000);
  const { contoso } = policyFixtures();
  describe("cases", () => {
    it("asks Windows servers for a reboot or W3SVC restart, and reboots for a health check", async () => {
      assert.match(((await validate(afterChangeAction, resourceArgs(WEB_SERVER_TRUST, "iis01", serverProps([contoso], { platform: "windows", afterChange: { action: "none" } })))) as string[])[0], /no reboot or W3SVC restart/);
      assert.match(((await validate(afterChangeAction, resourceArgs(WEB_SERVER_TRUST, "iis02", serverProps([contoso], { platform: "windows", afterChange: { action: "reboot" } })))) as string[])[0], /reboots after a change but has no health check/);
      assert.deepEqual(await validate(afterChangeAction, resourceArgs(WEB_SERVER_TRUST, "iis03", serverProps([contoso], { platform: "windows", afterChange: { action: "reboot" }, healthCheck: { url: "https://iis03/" } }))), []);
      assert.equal(afterChangeAction.enforcementLevel, "advisory");
    });
  });
});
