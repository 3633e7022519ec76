import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importTarget, storeId } from "../../components/resources/trustStoreImport";

describe("TrustStore ids: what pulumi import reads", () => {
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJIE8IEFghAsivcI7cPLoCQ9aaYYkDQdUE8nvlByC9Pu";
  const dir = mkdtempSync(join(tmpdir(), "trusted-roots-import-"));
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(knownHosts, `# pinned\n|1|abc=|def= ${key}\nweb01.contoso.test,10.0.0.5 ${key}\n[10.0.0.6]:2222 ${key}\n`);
  writeFileSync(join(dir, "key"), "PRIVATE KEY TEXT");
  const env = { TRUSTED_ROOTS_KNOWN_HOSTS: knownHosts, TRUSTED_ROOTS_PRIVATE_KEY_FILE: join(dir, "key") };

  it("an id round-trips: what create returns is what import accepts", () => {
    const id = storeId({ host: "10.0.0.6", port: 2222, user: "deploy" }, "rhel", "Root");
    assert.equal(id, "deploy@10.0.0.6:2222/rhel/Root");
    assert.deepEqual(importTarget(id, env), {
      connection: { host: "10.0.0.6", port: 2222, user: "deploy", hostKey: key, privateKey: "PRIVATE KEY TEXT" },
      platform: "rhel",
      store: "Root",
    });
    assert.equal(importTarget("web01.contoso.test/windows/CA", env).connection.user, "root");
  });

  it("every refusal names the input and the fix", () => {
    assert.throws(() => importTarget("web01", env), /an id looks like root@web01\.contoso\.test:22\/debian\/Root/);
    assert.throws(() => importTarget("root@10.0.0.5/solaris/Root", env), /platform "solaris" is not one of debian/);
    assert.throws(() => importTarget("root@10.0.0.5/debian/My", env), /store "My" is not one of Root/);
    assert.throws(() => importTarget("root@10.0.0.5/debian/Java/0123456789abcdef0123456789abcdef", env), /cannot import TrustStore/);
    assert.throws(() => importTarget("root@10.0.0.5/debian/Java", env), /a Java store's keystore and password are not in an id; declare it/);
    assert.throws(() => importTarget("root@10.0.0.5/debian/Root", { ...env, TRUSTED_ROOTS_KNOWN_HOSTS: undefined }), /set TRUSTED_ROOTS_KNOWN_HOSTS .*\(ssh-keyscan -t ed25519 10\.0\.0\.5/);
    assert.throws(() => importTarget("root@10.9.9.9/debian/Root", env), /has no plain entry for 10\.9\.9\.9 \(hashed entries cannot be searched\)/);
  });
});
