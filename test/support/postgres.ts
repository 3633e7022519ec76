import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Debian's PostgreSQL server binaries (initdb and pg_ctl live under the major version). */
function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const version = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a))[0] : undefined;
  if (!version) throw new Error("PostgreSQL is not installed (Debian package postgresql; scripts/install-system-deps.sh installs it)");
  return join(root, version, "bin");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A PostgreSQL server of the test's own: a fresh cluster in a temporary folder, on a free port of 127.0.0.1, run
 * as the postgres user (initdb refuses root), trusting local logins. What a team's shared Pulumi backend runs on.
 */
export class LocalPostgres {
  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  /** The backend URL `pulumi login` takes. */
  get url(): string {
    return `postgres://pulumi@127.0.0.1:${this.port}/postgres?sslmode=disable`;
  }

  static async start(): Promise<LocalPostgres> {
    const bin = postgresBin();
    const dir = mkdtempSync(join(tmpdir(), "trusted-roots-postgres-"));
    const [uid, gid] = ["-u", "-g"].map((flag) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim()));
    chownSync(dir, uid, gid);
    const asPostgres = (command: string, args: string[]) => execFileSync("runuser", ["-u", "postgres", "--", join(bin, command), ...args], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    asPostgres("initdb", ["-D", join(dir, "data"), "-U", "pulumi", "--auth=trust", "-E", "UTF8"]);
    const port = await freePort();
    // -w: pg_ctl returns once the server accepts connections.
    asPostgres("pg_ctl", ["-D", join(dir, "data"), "-l", join(dir, "server.log"), "-w", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, "start"]);
    return new LocalPostgres(dir, port);
  }

  /** Rows of the state table whose key matches `like` (an SQL LIKE pattern). */
  keys(like: string): string[] {
    const query = `SELECT key FROM pulumi_state WHERE key LIKE '${like.replace(/'/g, "''")}'`;
    const output = execFileSync("psql", ["-h", "127.0.0.1", "-p", String(this.port), "-U", "pulumi", "-d", "postgres", "-tA", "-c", query], { encoding: "utf8" });
    return output.split("\n").filter(Boolean);
  }

  stop(): void {
    execFileSync("runuser", ["-u", "postgres", "--", join(postgresBin(), "pg_ctl"), "-D", join(this.dir, "data"), "-m", "fast", "-w", "stop"], { stdio: "ignore" });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
