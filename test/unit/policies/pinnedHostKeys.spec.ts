import { strict as assert } from "node:assert";
import { pinnedHostKeys } from "../../../policies/pinnedHostKeys";
import { HOST_REBOOT, REMOTE_COMMAND, TRUST_STORE } from "../../../policies/shared";
import { resourceArgs, validate } from "../../support/policyArgs";

describe("policy pinned-host-keys", function () {
  this.timeout(30_000);
  const hostKey = "SHA256:" + "A".repeat(43);
  describe("cases", () => {
    it("requires a usable pin on every connected resource and refuses insecureSkipHostKeyCheck", async () => {
      const connection = (extra: object) => ({ connection: { host: "10.0.0.5", ...extra } });
      assert.deepEqual(await validate(pinnedHostKeys, resourceArgs(TRUST_STORE, "a", connection({ hostKey }))), []);
      assert.match(((await validate(pinnedHostKeys, resourceArgs(HOST_REBOOT, "b", connection({})))) as string[])[0], /b connects to 10\.0\.0\.5 without a pinned host key/);
      assert.match(((await validate(pinnedHostKeys, resourceArgs(REMOTE_COMMAND, "c", connection({ hostKey, insecureSkipHostKeyCheck: true })))) as string[])[0], /insecureSkipHostKeyCheck/);
      assert.match(((await validate(pinnedHostKeys, resourceArgs(TRUST_STORE, "d", connection({ hostKey: "garbage" })))) as string[])[0], /connection\.hostKey for 10\.0\.0\.5 is unusable/);
      assert.deepEqual(await validate(pinnedHostKeys, resourceArgs("aws:s3/bucket:Bucket", "e", {})), []);
      assert.match(
        ((await validate(pinnedHostKeys, resourceArgs(TRUST_STORE, "f", connection({ hostKey, bastion: { host: "jump.contoso.test" } })))) as string[])[0],
        /f reaches 10\.0\.0\.5 through the bastion jump\.contoso\.test without a pinned bastion host key/,
      );
      assert.deepEqual(await validate(pinnedHostKeys, resourceArgs(TRUST_STORE, "g", connection({ hostKey, bastion: { host: "jump", hostKey } }))), []);
    });

    it("a @pulumi/command remote command needs the full public key, the only form that provider accepts", async () => {
      const fullKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJIE8IEFghAsivcI7cPLoCQ9aaYYkDQdUE8nvlByC9Pu";
      const connection = (hostKey: string) => ({ connection: { host: "10.0.0.5", hostKey } });
      assert.deepEqual(await validate(pinnedHostKeys, resourceArgs(REMOTE_COMMAND, "ok", connection(fullKey))), []);
      assert.match(((await validate(pinnedHostKeys, resourceArgs(REMOTE_COMMAND, "fp", connection(hostKey)))) as string[])[0], /accepts only the full public key .* not a fingerprint/);
      assert.match(((await validate(pinnedHostKeys, resourceArgs(REMOTE_COMMAND, "kh", connection(`web01 ${fullKey}`)))) as string[])[0], /not a known_hosts line/);
      // Our own resources take every form.
      assert.deepEqual(await validate(pinnedHostKeys, resourceArgs(TRUST_STORE, "fp", connection(hostKey))), []);
    });
  });
});
