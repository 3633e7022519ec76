import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fingerprintOf, mapWithConcurrency, parseHostKeyPin, parseSshTarget } from "../../components/transport";
import { scratchLayout } from "../../components/selftest/scratch";
import { throwawayRoot } from "../../components/selftest/throwaway";
import { pinMatches } from "../../components/transport/hostKey";

describe("transport (pure parts)", () => {
  let publicKeyLine: string;
  let expectedFingerprint: string;

  before(() => {
    const dir = mkdtempSync(join(tmpdir(), "trusted-roots-hostkey-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "web01", "-f", join(dir, "key")]);
    publicKeyLine = readFileSync(join(dir, "key.pub"), "utf8").trim();
    expectedFingerprint = execFileSync("ssh-keygen", ["-l", "-f", join(dir, "key.pub")], { encoding: "utf8" }).split(" ")[1];
  });

  describe("host key pins", () => {
    it("reads a public key line and computes the fingerprint ssh-keygen prints", () => {
      const pin = parseHostKeyPin(publicKeyLine);
      assert.equal(pin.kind, "key");
      assert.equal(pin.fingerprint, expectedFingerprint);
      assert.equal(pin.kind === "key" && pin.keyType, "ssh-ed25519");
    });

    it("reads a known_hosts line", () => {
      const pin = parseHostKeyPin(`web01.contoso.test,10.0.0.5 ${publicKeyLine}`);
      assert.equal(pin.fingerprint, expectedFingerprint);
    });

    it("reads a SHA256 fingerprint and matches the key it names", () => {
      const pin = parseHostKeyPin(expectedFingerprint);
      const blob = Buffer.from(publicKeyLine.split(" ")[1], "base64");
      assert.equal(pinMatches(pin, blob), true);
      assert.equal(pinMatches(pin, Buffer.concat([blob, Buffer.from([0])])), false);
      assert.equal(fingerprintOf(blob), expectedFingerprint);
    });

    it("rejects garbage, markers and damaged keys with the fix in the message", () => {
      assert.throws(() => parseHostKeyPin("hello"), /not a known_hosts line.*ssh-keyscan/);
      assert.throws(() => parseHostKeyPin(`@cert-authority * ${publicKeyLine}`), /marker line/);
      assert.throws(() => parseHostKeyPin("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ"), /does not encode a ssh-ed25519 key/);
      assert.throws(() => parseHostKeyPin("SHA256:short"), /not a known_hosts line/);
    });
  });

  describe("connection settings", () => {
    it("fills defaults", () => {
      const target = parseSshTarget({ host: "web01", privateKey: "k", hostKey: publicKeyLine });
      assert.deepEqual([target.port, target.user, target.retries, target.insecureSkipHostKeyCheck], [22, "root", 2, false]);
    });

    it("names every bad field and the fix", () => {
      assert.throws(
        () => parseSshTarget({ host: "", port: 70000, hostKey: "nonsense" }, "servers[2].connection"),
        (error: Error) =>
          /servers\[2\]\.connection\.host: host is empty/.test(error.message) &&
          /servers\[2\]\.connection\.port: /.test(error.message) &&
          /servers\[2\]\.connection\.hostKey: host key "nonsense" is not/.test(error.message) &&
          /no credentials: set privateKey/.test(error.message),
      );
    });
  });

  describe("mapWithConcurrency", () => {
    it("keeps order and never exceeds the limit", async () => {
      let running = 0;
      let peak = 0;
      const results = await mapWithConcurrency([5, 1, 4, 2, 3, 0, 6], 3, async (value) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, value * 3));
        running--;
        return value * 10;
      });
      assert.deepEqual(results, [50, 10, 40, 20, 30, 0, 60]);
      assert.equal(peak, 3);
    });
  });
});

describe("selftest scratch store (pure parts)", () => {
  it("refuses any directory but a /tmp/trusted-roots-selftest.* scratch directory", () => {
    for (const dir of ["/usr/local/share/ca-certificates", "/", "/tmp", "/tmp/trusted-roots-selftest.a", "/tmp/trusted-roots-selftest.abcdef/../../etc"]) {
      assert.throws(() => scratchLayout(dir), /refusing to use/, dir);
    }
    const layout = scratchLayout("/tmp/trusted-roots-selftest.AbC123xy");
    for (const path of [layout.anchorsDir, layout.bundlePath, layout.stateDir!]) assert.ok(path.startsWith("/tmp/trusted-roots-selftest.AbC123xy/"));
    assert.match(layout.refreshCommand(true), /^update-ca-certificates --fresh --localcertsdir '\/tmp\/trusted-roots-selftest\.AbC123xy\/local' --etccertsdir '[^']+\/etc' --hooksdir '[^']+\/hooks'$/);
  });

  it("makes a throw-away root: self-signed CA, valid for a day", () => {
    const root = throwawayRoot(new Date("2026-11-25T12:00:00Z"));
    assert.deepEqual([root.kind, root.keyAlgorithm, root.keySize], ["root", "rsa", 2048]);
    assert.equal(root.notAfter, "2026-11-26T12:00:00.000Z");
    assert.match(root.commonName, /^trusted-roots selftest [0-9a-f]{8}$/);
  });
});
