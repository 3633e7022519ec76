import { strict as assert } from "node:assert";
import { parseHostKeyPin, withSession } from "../../components/transport";
import { describeLab, Lab, type LabHost } from "../support/lab";
import { waitUntil } from "../support/wait";

const RSA_PORT = 2222;

// The real OpenSSH sshd of a lab host, given an RSA host key and allowed to sign with SHA-2 only (as
// hardened servers and OpenSSH 8.8+ defaults are): a pinned RSA key must still connect, never by SHA-1.
describeLab("SSH host key algorithms against a real sshd that refuses SHA-1 signatures", function () {
  this.timeout(300_000);
  let lab: Lab;
  let host: LabHost;
  let rsaPublicLine: string;

  const run = (hostKey: string) =>
    withSession({ ...lab.connection(host), port: RSA_PORT, hostKey }, async (session) => (await session.exec({ command: "echo connected", stdin: "", elevation: "none" })).stdout.trim());

  before(async () => {
    lab = await Lab.start(1);
    [host] = lab.hosts;
    await lab.exec(host, "ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", "", "-C", "rsa-only", "-f", "/etc/ssh/trl_host_rsa_key");
    rsaPublicLine = (await lab.exec(host, "cat", "/etc/ssh/trl_host_rsa_key.pub")).trim();
    const config = [
      `ListenAddress ${host.address}:${RSA_PORT}`,
      "HostKey /etc/ssh/trl_host_rsa_key",
      "HostKeyAlgorithms rsa-sha2-512,rsa-sha2-256",
      "PermitRootLogin prohibit-password",
      "PubkeyAuthentication yes",
      "UsePAM no",
      "PidFile /run/sshd-rsa.pid",
      "AuthorizedKeysFile .ssh/authorized_keys",
      "",
    ].join("\n");
    await lab.writeFile(host, "/etc/ssh/trl_rsa_sshd_config", config);
    await lab.exec(host, "/usr/sbin/sshd", "-t", "-f", "/etc/ssh/trl_rsa_sshd_config");
    await lab.exec(host, "/usr/sbin/sshd", "-f", "/etc/ssh/trl_rsa_sshd_config", "-E", "/var/log/trl-sshd-rsa.log");
    await waitUntil(() => run(rsaPublicLine).then(() => true, () => false), "the RSA-only sshd answers");
  });

  after(async () => {
    await lab?.stop();
  });

  it("a pinned RSA key (public key line, known_hosts line or SHA256 fingerprint) connects with rsa-sha2", async () => {
    const fingerprint = parseHostKeyPin(rsaPublicLine).fingerprint;
    for (const pin of [rsaPublicLine, `${host.address} ${rsaPublicLine}`, fingerprint]) assert.equal(await run(pin), "connected", pin);
  });

  it("a DSA host key pin is refused with the fix, before any connection", () => {
    const dsa = "ssh-dss " + Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from("ssh-dss"), Buffer.alloc(16)]).toString("base64");
    assert.throws(() => parseHostKeyPin(dsa), /is a DSA key, which OpenSSH disabled in 7\.0 .*pin the host's ed25519 key/);
  });
});
