import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server } from "ssh2";
import { TransportError, withSession } from "../../components/transport";

/** An ed25519 key made by ssh-keygen: its public line and the fingerprint ssh-keygen prints. */
function makeKey(dir: string, name: string): { privatePath: string; publicLine: string; fingerprint: string } {
  const privatePath = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", privatePath]);
  const publicLine = readFileSync(`${privatePath}.pub`, "utf8").trim();
  const fingerprint = execFileSync("ssh-keygen", ["-l", "-f", `${privatePath}.pub`], { encoding: "utf8" }).split(" ")[1];
  return { privatePath, publicLine, fingerprint };
}

// A real SSH server (ssh2's, on loopback) holding one host key; the client pins it in every form people
// paste, and pins of another key in the same forms. The handshake is real; only the shell is a stub.
describe("host key pins against a real SSH handshake", function () {
  this.timeout(60_000);
  let server: Server;
  let port: number;
  let serverKey: ReturnType<typeof makeKey>;
  let otherKey: ReturnType<typeof makeKey>;
  let authenticated = 0;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), "trusted-roots-pin-"));
    serverKey = makeKey(dir, "server");
    otherKey = makeKey(dir, "other");
    server = new Server({ hostKeys: [readFileSync(serverKey.privatePath)] }, (client) => {
      client.on("authentication", (context) => {
        authenticated++;
        context.accept();
      });
      client.on("ready", () => {
        client.on("session", (accept) => {
          accept().on("exec", (acceptExec) => {
            const channel = acceptExec();
            channel.write("pinned\n");
            channel.exit(0);
            channel.end();
          });
        });
      });
      client.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(() => server?.close());

  const PIN_FORMS = {
    "public key line": (key: ReturnType<typeof makeKey>) => key.publicLine,
    "known_hosts line": (key: ReturnType<typeof makeKey>) => `web01.contoso.test,127.0.0.1 ${key.publicLine}`,
    "SHA256 fingerprint": (key: ReturnType<typeof makeKey>) => key.fingerprint,
  };
  const connect = (hostKey: string) =>
    withSession({ host: "127.0.0.1", port, user: "deploy", password: "unused", hostKey, retries: 0, connectTimeoutSeconds: 10 }, async (session) =>
      (await session.exec({ command: "true", stdin: "", elevation: "none" })).stdout,
    );

  for (const [form, pinOf] of Object.entries(PIN_FORMS)) {
    it(`connects when the ${form} names the server's key`, async () => {
      assert.equal(await connect(pinOf(serverKey)), "pinned\n");
    });
    it(`refuses another key given as a ${form}, naming both fingerprints, before authenticating`, async () => {
      const before = authenticated;
      await assert.rejects(connect(pinOf(otherKey)), (error: unknown) => {
        assert.ok(error instanceof TransportError, String(error));
        assert.equal(error.failure, "host key mismatch");
        assert.ok(error.message.includes(serverKey.fingerprint) && error.message.includes(otherKey.fingerprint), error.message);
        return true;
      });
      assert.equal(authenticated, before, "no credentials were offered to the impostor");
    });
  }
});
