import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { SshTargetInput } from "../../components/transport";

const run = promisify(execFile);
const LABCTL = resolve(__dirname, "../../../test/lab/labctl.sh");
export const DEFAULT_LAB = { TRL_LAB_PREFIX: "trl", TRL_LAB_SUBNET: "10.213.0", TRL_LAB_DIR: "/var/tmp/trusted-roots-lab" };

/**
 * The lab of mocha's parallel worker `worker` (MOCHA_WORKER_ID): two labs on one machine must not share a name
 * prefix, subnet or folder, or one's `labctl up` tears the other down mid-test. Worker k takes the base lab's
 * names with k appended and the /16 k + 1 above it (the guard route is per /16), so no worker touches the base lab.
 */
function workerLab(worker: number, base: Partial<typeof DEFAULT_LAB>): typeof DEFAULT_LAB {
  const { TRL_LAB_PREFIX: prefix, TRL_LAB_SUBNET: subnet, TRL_LAB_DIR: dir } = { ...DEFAULT_LAB, ...base };
  const octets = subnet.split(".").map(Number);
  const second = octets[1] + 1 + worker;
  if (octets.length !== 3 || octets.some((octet) => !Number.isInteger(octet)) || second > 255) {
    throw new Error(`TRL_LAB_SUBNET=${subnet}: worker ${worker} has no /16 above it; give the first three octets of a subnet with room above (e.g. 10.213.0)`);
  }
  return { TRL_LAB_PREFIX: `${prefix}${worker}`, TRL_LAB_SUBNET: [octets[0], second, octets[2]].join("."), TRL_LAB_DIR: `${dir}-${worker}` };
}

// Set for the whole worker process, so labctl and every CLI or engine process a test starts see the same lab.
// Once: a process the worker starts that loads this module too (the demo) inherits MOCHA_WORKER_ID and the
// worker's lab already derived; deriving again took worker 0's demo onto worker 1's subnet, and worker 1's
// connections reached the demo's hosts (a CI run's host key mismatches).
if (process.env.MOCHA_WORKER_ID !== undefined && process.env.TRL_LAB_WORKER === undefined) {
  Object.assign(process.env, workerLab(Number(process.env.MOCHA_WORKER_ID), process.env), { TRL_LAB_WORKER: process.env.MOCHA_WORKER_ID });
}

export interface LabHost {
  name: string;
  address: string;
  port: number;
  hostKey: string;
}

/** Why lab tests cannot run here, or undefined when they can. */
export function labUnavailableReason(): string | undefined {
  if (process.platform !== "linux") return "lab tests need Linux network namespaces";
  if (process.getuid?.() !== 0) return "lab tests need root (network namespaces, overlay mounts); run npm test as root";
  return undefined;
}

/**
 * `describe` for tests against real lab hosts. Where the lab cannot run they are skipped with the reason,
 * except under CI=true, where that is a failure: CI must never pass without having run them.
 */
export function describeLab(title: string, body: (this: Mocha.Suite) => void): void {
  const reason = labUnavailableReason();
  if (!reason) {
    describe(title, body);
  } else if (process.env.CI === "true") {
    describe(title, () => it("runs against lab hosts", () => assert_fail(`${title}: ${reason} (CI=true forbids skipping lab tests)`)));
  } else {
    describe.skip(`${title} (skipped: ${reason})`, body);
  }
}

function assert_fail(message: string): never {
  throw new Error(message);
}

/**
 * `pattern`, written for the default lab subnet (10.213.0.x), for the lab actually running: TRL_LAB_SUBNET may
 * move a second lab elsewhere.
 */
export function onLabSubnet(pattern: RegExp, lab: Lab): RegExp {
  const prefix = lab.hosts[0].address.replace(/\.\d+$/, ".").replace(/\./g, "\\.");
  return new RegExp(pattern.source.replace(/10\\\.213\\\.0\\\./g, prefix), pattern.flags);
}

/** A running lab: its hosts, credentials and the controls for reboots and cut links. */
export class Lab {
  readonly hosts: LabHost[];
  readonly clientKey: string;
  readonly deployPassword: string;
  readonly serverCa: string;

  constructor(readonly dir: string) {
    this.hosts = JSON.parse(readFileSync(join(dir, "hosts.json"), "utf8")) as LabHost[];
    this.clientKey = readFileSync(join(dir, "client_key"), "utf8");
    this.deployPassword = readFileSync(join(dir, "deploy.password"), "utf8").trim();
    this.serverCa = readFileSync(join(dir, "pki", "server-ca.crt"), "utf8");
  }

  /** This machine's own address on the lab bridge (`.1` of the lab's subnet, which TRL_LAB_SUBNET may move). */
  get machineAddress(): string {
    return this.hosts[0].address.replace(/\.\d+$/, ".1");
  }

  static async start(count: number, dir = process.env.TRL_LAB_DIR ?? DEFAULT_LAB.TRL_LAB_DIR): Promise<Lab> {
    await run("bash", [LABCTL, "up", String(count)], { env: { ...process.env, TRL_LAB_DIR: dir }, timeout: 180_000 });
    return new Lab(dir);
  }

  async stop(): Promise<void> {
    await run("bash", [LABCTL, "down"], { env: { ...process.env, TRL_LAB_DIR: this.dir }, timeout: 60_000 });
  }

  /** SSH connection settings for a host, as root by key unless told otherwise. */
  connection(host: LabHost, overrides: Partial<SshTargetInput> = {}): SshTargetInput {
    return {
      host: host.address,
      port: host.port,
      user: "root",
      hostKey: host.hostKey,
      privateKey: this.clientKey,
      connectTimeoutSeconds: 5,
      retries: 0,
      ...overrides,
    };
  }

  /** Run a command inside a host as root, outside SSH (the test's own hands on the machine). */
  async exec(host: LabHost, ...command: string[]): Promise<string> {
    const { stdout } = await run("bash", [LABCTL, "exec", host.name, ...command], { env: { ...process.env, TRL_LAB_DIR: this.dir } });
    return stdout;
  }

  async sh(host: LabHost, script: string): Promise<string> {
    return this.exec(host, "sh", "-c", script);
  }

  /**
   * Write a file inside a host; path and content travel as arguments, never as shell text. In pieces: one
   * argument may hold 128 KiB at most (a JDK's cacerts is bigger).
   */
  async writeFile(host: LabHost, path: string, content: string | Buffer, mode = "644"): Promise<void> {
    const encoded = Buffer.from(content).toString("base64");
    const PIECE = 64 * 1024;
    for (let offset = 0; offset === 0 || offset < encoded.length; offset += PIECE) {
      const redirect = offset === 0 ? ">" : ">>";
      await this.exec(host, "sh", "-c", `printf %s "$2" | base64 -d ${redirect} "$1" && chmod "$3" "$1"`, "sh", path, encoded.slice(offset, offset + PIECE), mode);
    }
  }

  /**
   * A local administrator's anchor, as update-ca-certificates would have left it: the file in the anchors
   * directory and its PEM appended to the bundle. Planted with the test's own hands: Debian's tool cannot
   * handle every hostile file name (its `while read` loop mangles backslashes and trailing blanks).
   */
  async plantLocalAnchor(host: LabHost, path: string, pem: string): Promise<void> {
    await this.writeFile(host, path, pem);
    await this.exec(host, "sh", "-c", 'printf %s "$1" | base64 -d >> /etc/ssl/certs/ca-certificates.crt', "sh", Buffer.from(pem).toString("base64"));
  }

  async reboot(host: LabHost, hard = false): Promise<void> {
    await run("bash", [LABCTL, "reboot", host.name, ...(hard ? ["--hard"] : [])], { env: { ...process.env, TRL_LAB_DIR: this.dir } });
  }

  async link(host: LabHost, state: "up" | "down"): Promise<void> {
    await run("bash", [LABCTL, "link", host.name, state], { env: { ...process.env, TRL_LAB_DIR: this.dir } });
  }

  /**
   * The status once nginx has settled: `nginx -s reload` only signals the master, which starts new workers
   * a moment later. Polls until `expected` or 10 s, and returns the last status seen.
   */
  async settledHttpsStatus(host: LabHost, client: { cert: string; key: string } | undefined, expected: number): Promise<number> {
    const deadline = Date.now() + 10_000;
    let status = await this.httpsStatus(host, client);
    while (status !== expected && Date.now() < deadline) {
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 200));
      status = await this.httpsStatus(host, client);
    }
    return status;
  }

  /** HTTP status of GET https://host/ presenting a client certificate (or none). */
  httpsStatus(host: LabHost, client?: { cert: string; key: string }): Promise<number> {
    return new Promise((resolvePromise, reject) => {
      const req = request(
        {
          host: host.address,
          port: 443,
          path: "/",
          method: "GET",
          ca: this.serverCa,
          cert: client?.cert,
          key: client?.key,
          timeout: 5000,
          // A kept-alive connection stays with the nginx worker that existed before a reload.
          agent: false,
        },
        (response) => {
          response.resume();
          response.on("end", () => resolvePromise(response.statusCode ?? 0));
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${host.name}: HTTPS request timed out`)));
      req.on("error", reject);
      req.end();
    });
  }
}
