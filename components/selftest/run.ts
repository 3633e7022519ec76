import { plan } from "../plan";
import { platformFor, type ObservedStore, type PlatformName } from "../platforms";
import { decodeField, parseRecords } from "../platforms/protocol";
import { applyWith, observeWith } from "../store";
import { withSession, type SessionOptions, type SshSession, type SshTargetInput } from "../transport";
import { CREATE_SCRATCH, removeScratch, scratchLayout, scratchPlatform, SCRATCH_PATTERN } from "./scratch";
import { throwawayRoot } from "./throwaway";
import { windowsSelftestScript } from "./windows";

export interface SelftestStep {
  step: string;
  ok: boolean;
  ms: number;
  detail: string;
}

/** Platforms whose scratch-store cycle is implemented. */
export const SELFTEST_PLATFORMS: readonly PlatformName[] = ["debian", "windows"];

class StepFailed extends Error {}

/** What must not change on the real store: every root, where it lives, who owns it, and the manifest. */
function fingerprintOf(observed: ObservedStore): string {
  const roots = observed.roots.map((root) => `${root.sha256}|${root.origin}|${root.trusted}|${[...root.locations].sort().join(",")}`).sort();
  return JSON.stringify({ roots, manifest: observed.manifest });
}

async function step<T>(steps: SelftestStep[], name: string, run: () => Promise<{ value: T; ok: boolean; detail: string }>): Promise<T> {
  const started = Date.now();
  try {
    const { value, ok, detail } = await run();
    steps.push({ step: name, ok, ms: Date.now() - started, detail });
    if (!ok) throw new StepFailed(detail);
    return value;
  } catch (error) {
    if (!(error instanceof StepFailed)) steps.push({ step: name, ok: false, ms: Date.now() - started, detail: (error as Error).message });
    throw error;
  }
}

async function linuxCycle(session: SshSession, platformName: PlatformName, steps: SelftestStep[]): Promise<void> {
  const real = platformFor(platformName);
  const before = await step(steps, "observe the real store (read-only)", async () => {
    const observed = await observeWith(session, real, "Root");
    return { value: observed, ok: true, detail: `${observed.roots.filter((root) => root.trusted).length} trusted roots, ${observed.manifest.roots.length} managed by this tool` };
  });
  const root = throwawayRoot();
  const dir = await step(steps, "create a scratch store in /tmp", async () => {
    const created = parseRecords((await session.run({ command: "/bin/sh -s", stdin: CREATE_SCRATCH, elevation: "sudo" })).stdout).find((record) => record.kind === "scratch");
    const path = created?.fields.join(" ") ?? "";
    return { value: path, ok: SCRATCH_PATTERN.test(path), detail: path || "mktemp printed no directory" };
  });
  try {
    const scratch = scratchPlatform(dir);
    const baseline = await step(steps, "build it with update-ca-certificates' directory options", async () => {
      await session.run({ command: "/bin/sh -s", stdin: `${scratchLayout(dir).refreshCommand(true)} >/dev/null\n`, elevation: "sudo" });
      const observed = await observeWith(session, scratch, "Root");
      const trusted = observed.roots.filter((entry) => entry.trusted).length;
      return { value: observed, ok: trusted > 0, detail: `${trusted} roots in the scratch bundle` };
    });
    const imported = await step(steps, `import the throw-away root ${root.commonName}`, async () => {
      const observed = await applyWith(session, scratch, plan({ roots: [root] }, baseline, "exact"));
      const found = observed.roots.find((entry) => entry.sha256 === root.sha256);
      return { value: observed, ok: Boolean(found?.trusted && found.origin === "managed"), detail: `SHA-1 ${root.sha1} ${found?.trusted ? "trusted in the scratch bundle" : "NOT trusted"}` };
    });
    await step(steps, "remove it again", async () => {
      const observed = await applyWith(session, scratch, plan({ roots: [] }, imported, "exact"));
      const left = observed.roots.some((entry) => entry.sha256 === root.sha256);
      return { value: observed, ok: !left, detail: left ? "still in the scratch bundle" : "gone from the scratch bundle" };
    });
  } finally {
    await step(steps, "delete the scratch store", async () => {
      const removed = parseRecords((await session.run({ command: "/bin/sh -s", stdin: removeScratch(dir), elevation: "sudo" })).stdout).some((record) => record.kind === "removed");
      return { value: undefined, ok: removed, detail: removed ? `${dir} removed` : `${dir} could not be removed` };
    });
  }
  await step(steps, "observe the real store again: untouched", async () => {
    const after = await observeWith(session, real, "Root");
    const same = fingerprintOf(after) === fingerprintOf(before);
    return { value: after, ok: same, detail: same ? "identical to the first observation" : "DIFFERS from the first observation" };
  });
}

async function windowsCycle(session: SshSession, steps: SelftestStep[]): Promise<void> {
  const real = platformFor("windows");
  const before = await step(steps, "observe the real Root store (read-only)", async () => {
    const observed = await observeWith(session, real, "Root");
    return { value: observed, ok: true, detail: `${observed.roots.length} roots in LocalMachine\\Root` };
  });
  const root = throwawayRoot();
  const result = await session.exec(windowsSelftestScript(root.der));
  for (const record of parseRecords(result.stdout).filter((entry) => entry.kind === "step")) {
    const [name, outcome, ms, detail] = record.fields;
    steps.push({ step: `scratch store: ${name}`, ok: outcome === "ok", ms: Number(ms), detail: decodeField(detail) });
  }
  if (!steps.some((entry) => entry.step === "scratch store: cleanup")) {
    steps.push({ step: "scratch store cycle", ok: false, ms: 0, detail: `the script did not finish (exit code ${result.exitCode}): ${result.stderr.trim().slice(-300)}` });
  }
  await step(steps, "observe the real Root store again: untouched", async () => {
    const after = await observeWith(session, real, "Root");
    const same = fingerprintOf(after) === fingerprintOf(before);
    return { value: after, ok: same, detail: same ? "identical to the first observation" : "DIFFERS from the first observation" };
  });
}

/**
 * Prove the tool works on one real server before trusting it with a rollout: observe the real store read-only,
 * run import -> observe -> remove -> observe with a throw-away root in a scratch store that can never affect
 * trust, clean up, and show the real store did not change. One SSH session.
 */
export async function runSelftest(connection: SshTargetInput, platform: PlatformName, options?: SessionOptions): Promise<SelftestStep[]> {
  if (!SELFTEST_PLATFORMS.includes(platform)) {
    throw new Error(`selftest supports ${SELFTEST_PLATFORMS.join(" and ")} (Ubuntu counts as debian); ${platform} has no scratch-store cycle yet`);
  }
  const steps: SelftestStep[] = [];
  await withSession(
    connection,
    async (session) => {
      try {
        if (platform === "windows") await windowsCycle(session, steps);
        else await linuxCycle(session, platform, steps);
      } catch (error) {
        if (!(error instanceof StepFailed) && !steps.some((entry) => !entry.ok)) throw error;
      }
    },
    options,
  );
  return steps;
}
