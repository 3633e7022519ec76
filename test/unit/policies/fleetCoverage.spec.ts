import { strict as assert } from "node:assert";
import type { StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import type { Certificate } from "../../../components/certificates";
import { toRootInputs } from "../../../components/resources/trustStoreCore";
import { fleetCoverage } from "../../../policies/fleetCoverage";
import { TRUST_STORE, WEB_SERVER_TRUST } from "../../../policies/shared";
import { NotApplicable, policyFixtures } from "../../support/policyArgs";

describe("policy fleet-coverage (stack)", function () {
  this.timeout(30_000);
  const { contoso, fabrikam } = policyFixtures();
  describe("cases", () => {
    const stackArgs = (resources: object[]): StackValidationArgs =>
      ({ resources, getConfig: () => ({}), stackTags: new Map(), notApplicable: () => { throw new NotApplicable(); } }) as unknown as StackValidationArgs;
    const run = async (policy: StackValidationPolicy, args: StackValidationArgs) => {
      const violations: string[] = [];
      await policy.validateStack!(args, (message) => violations.push(message));
      return violations;
    };

    it("reports servers without a store holding a root, with the fleet's counts", async () => {
      const component = (name: string) => ({ type: WEB_SERVER_TRUST, name, urn: `urn:${name}`, props: {} });
      const store = (name: string, parent: string, roots: Certificate[]) => ({ type: TRUST_STORE, name, urn: `urn:${name}`, props: { roots: toRootInputs(roots) }, parent: { urn: parent } });
      const covered = [component("web01"), store("web01-root", "urn:web01", [contoso]), component("web02"), store("web02-root", "urn:web02", [contoso, fabrikam])];
      assert.deepEqual(await run(fleetCoverage, stackArgs(covered)), []);
      const gap = [...covered, component("web03"), store("web03-root", "urn:web03", [])];
      assert.deepEqual(await run(fleetCoverage, stackArgs(gap)), ["1 of 3 servers have no trust store with a root (web03); the fleet has 3 trust stores declaring 3 roots in all"]);
    });
  });
});
