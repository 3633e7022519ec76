import { observeStores } from "../store";
import { mapWithConcurrency, PHASES, timedPhaseSync, TransportError, type SshTargetInput } from "../transport";
import type { FleetServer } from "../TrustFleet";
import { DEFAULT_EXPIRING_DAYS, evaluateHost, unreachableHost, withJavaStore, type HostFinding } from "./findings";
import { CACERTS_PASSWORD, javaStoreSuffix } from "../platforms/java";
import { KeystoreError } from "../keystores";

/** Where a scan stands after a host: for the progress line of a long scan on a terminal. */
export interface ScanProgress {
  done: number;
  total: number;
  unreachable: number;
  elapsedMs: number;
}

/** `scanned 120/1000 hosts, 3 unreachable, 42 s`: one line, rewritten in place on a terminal. */
export function progressLine({ done, total, unreachable, elapsedMs }: ScanProgress): string {
  return `scanned ${done}/${total} hosts, ${unreachable} unreachable, ${Math.round(elapsedMs / 1000)} s`;
}

export interface ScanOptions {
  concurrency: number;
  /** Called after each host, for a progress line. */
  onProgress?: (progress: ScanProgress) => void;
  warn?: (message: string) => void;
  /** `<project>/<stack>/` when scanning a stack: which manifest owners are this stack's servers. */
  ownerPrefix?: string;
  /** Roots expiring within this many days are findings (default 30). */
  expiringDays?: number;
}

/** Observe every server (one SSH session each, bounded concurrency) and compare with its declaration. */
export async function scanFleet(servers: readonly FleetServer[], options: ScanOptions): Promise<HostFinding[]> {
  let done = 0;
  let unreachable = 0;
  const scanStarted = Date.now();
  return mapWithConcurrency(servers, options.concurrency, async (server) => {
    const connection = server.connection as SshTargetInput;
    const identity = { name: server.name, host: connection.host, platform: server.platform };
    const started = Date.now();
    let finding: HostFinding;
    try {
      const desired = {
        ...identity,
        roots: server.roots,
        distrusted: server.distrusted ?? [],
        chain: [...(server.intermediates ?? []), ...(server.crossSigned ?? [])],
        mode: server.mode ?? "exact",
        ownerPrefix: options.ownerPrefix,
      };
      const keystores = server.javaKeystores ?? [];
      // The host's store and each of its Java keystores, in one SSH session.
      const [observed, ...javaStores] = await observeStores(
        [
          { connection, platform: server.platform },
          ...keystores.map((location) => ({
            connection,
            platform: server.platform,
            store: "Java" as const,
            keystore: { location, password: location.kind === "file" ? String(server.javaKeystorePassword ?? "") : CACERTS_PASSWORD },
          })),
        ],
        { warn: options.warn },
      );
      finding = timedPhaseSync(PHASES.compare, () => evaluateHost(desired, observed, 0, { now: new Date(), expiringDays: options.expiringDays ?? DEFAULT_EXPIRING_DAYS }));
      javaStores.forEach((java, index) => {
        finding = withJavaStore(finding, desired, java, java.keystore?.realPath ?? keystores[index].kind, javaStoreSuffix(keystores[index]));
      });
      finding = { ...finding, durationMs: Date.now() - started };
    } catch (error) {
      const reason =
        error instanceof TransportError
          ? `${error.failure}: ${error.detail}`
          : error instanceof KeystoreError
            ? `keystore unreadable: ${error.message}`
            : (error as Error).message;
      finding = unreachableHost(identity, reason, Date.now() - started);
    }
    done += 1;
    if (finding.status === "unreachable") unreachable += 1;
    options.onProgress?.({ done, total: servers.length, unreachable, elapsedMs: Date.now() - scanStarted });
    return finding;
  });
}
