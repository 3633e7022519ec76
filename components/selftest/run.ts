import { plan } from "../plan";
import { platformFor, type ObservedStore, type Platform, type PlatformName, type RemoteScript } from "../platforms";
import { parseRecords } from "../platforms/protocol";
import { ApplyError, applyWith, observeWith } from "../store";
import { withSession, type ExecResult, type ScriptRunner, type SessionOptions, type SshTargetInput } from "../transport";

/** What the self-test runs its steps over: an SSH session (or, in tests, a simulated host). */
export interface SelftestRunner extends ScriptRunner {
  run(script: RemoteScript): Promise<ExecResult>;
}
import { CREATE_SCRATCH, removeScratch, scratchLayout, scratchPlatform, SCRATCH_PATTERN } from "./scratch";
import { throwawayRoot } from "./throwaway";
import { manifestFolderFindings, SELFTEST_STORE, windowsScratchPlatform, windowsSelftestCleanupScript } from "./windows";
import { parseManifestSecurity } from "../platforms/windows";

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

/** A scratch store on one host: how to make it, the production platform pointed at it, how to delete it. */
interface ScratchStore {
  create(session: SelftestRunner): Promise<{ platform: Platform; detail: string; ok: boolean }>;
  remove(session: SelftestRunner): Promise<{ ok: boolean; detail: string }>;
  /** Where it lives, for step names. */
  where: string;
  /** A fresh scratch store already trusts roots (a bundle built from the distribution's set). */
  startsWithRoots: boolean;
}

function linuxScratch(): ScratchStore {
  let dir = "";
  return {
    where: "a scratch store in /tmp",
    startsWithRoots: true,
    create: async (session) => {
      const created = parseRecords((await session.run({ command: "/bin/sh -s", stdin: CREATE_SCRATCH, elevation: "sudo" })).stdout).find((record) => record.kind === "scratch");
      dir = created?.fields.join(" ") ?? "";
      if (!SCRATCH_PATTERN.test(dir)) return { platform: scratchPlatform("/tmp/trusted-roots-selftest.invalid"), ok: false, detail: dir || "mktemp printed no directory" };
      // Built with update-ca-certificates' directory options, like the real store.
      await session.run({ command: "/bin/sh -s", stdin: `${scratchLayout(dir).refreshCommand(true)} >/dev/null\n`, elevation: "sudo" });
      return { platform: scratchPlatform(dir), ok: true, detail: `${dir}, built with update-ca-certificates --localcertsdir/--etccertsdir/--hooksdir` };
    },
    remove: async (session) => {
      if (!dir) return { ok: true, detail: "nothing was created" };
      const removed = parseRecords((await session.run({ command: "/bin/sh -s", stdin: removeScratch(dir), elevation: "sudo" })).stdout).some((record) => record.kind === "removed");
      return { ok: removed, detail: removed ? `${dir} removed` : `${dir} could not be removed` };
    },
  };
}

function windowsScratch(): ScratchStore {
  return {
    where: `the scratch store LocalMachine\\${SELFTEST_STORE}`,
    startsWithRoots: false,
    create: async () => ({ platform: windowsScratchPlatform, ok: true, detail: `LocalMachine\\${SELFTEST_STORE}, created by the first import` }),
    remove: async (session) => {
      await session.run(windowsSelftestCleanupScript());
      return { ok: true, detail: `LocalMachine\\${SELFTEST_STORE} and its manifest folder removed` };
    },
  };
}

/**
 * An apply that fails half-way must put the store back: import a good root and then one whose thumbprint does
 * not match its certificate. The production script adds the first, fails on the second and rolls back.
 */
async function provesRollback(session: SelftestRunner, platform: Platform, observed: ObservedStore): Promise<{ ok: boolean; detail: string }> {
  const good = throwawayRoot();
  const bad = throwawayRoot();
  const storePlan = plan({ roots: [good, bad] }, observed, "exact");
  storePlan.imports = storePlan.imports.map((root) => (root.sha256 === bad.sha256 ? { ...root, sha1: good.sha1 } : root));
  try {
    await applyWith(session, platform, storePlan);
    return { ok: false, detail: "the apply of a tampered certificate succeeded" };
  } catch (error) {
    if (!(error instanceof ApplyError)) throw error;
    const after = await observeWith(session, platform, "Root");
    const leftovers = after.roots.filter((root) => root.sha256 === good.sha256 || root.sha256 === bad.sha256).length;
    const ok = error.step === "import" && error.rolledBack && leftovers === 0 && after.manifestDigest === observed.manifestDigest;
    return { ok, detail: `failed at "${error.step}" as intended; ${error.rolledBack ? "rolled back" : "NOT rolled back"}; ${leftovers} of its roots left; manifest ${after.manifestDigest === observed.manifestDigest ? "unchanged" : "CHANGED"}` };
  }
}

async function cycle(session: SelftestRunner, platformName: PlatformName, scratch: ScratchStore, steps: SelftestStep[]): Promise<void> {
  const real = platformFor(platformName);
  const before = await step(steps, "observe the real store (read-only)", async () => {
    const observed = await observeWith(session, real, "Root");
    return { value: observed, ok: true, detail: `${observed.roots.filter((root) => root.trusted).length} trusted roots, ${observed.manifest.roots.length} managed by this tool` };
  });
  const root = throwawayRoot();
  try {
    const platform = await step(steps, `create ${scratch.where}`, async () => {
      const created = await scratch.create(session);
      return { value: created.platform, ok: created.ok, detail: created.detail };
    });
    const baseline = await step(steps, "observe it with the production observe script", async () => {
      const observed = await observeWith(session, platform, "Root");
      const trusted = observed.roots.filter((entry) => entry.trusted).length;
      return { value: observed, ok: scratch.startsWithRoots === trusted > 0, detail: `${trusted} roots in the scratch store` };
    });
    const imported = await step(steps, `import the throw-away root ${root.commonName} with the production apply script`, async () => {
      const observed = await applyWith(session, platform, plan({ roots: [root] }, baseline, "exact"));
      const found = observed.roots.find((entry) => entry.sha256 === root.sha256);
      return { value: observed, ok: Boolean(found?.trusted && found.origin === "managed"), detail: `SHA-1 ${root.sha1} ${found?.trusted ? "trusted in the scratch store" : "NOT trusted"}` };
    });
    if (platformName === "windows") {
      await step(steps, "the manifest folder is administrators-only, and the host hashes the manifest as this machine does", async () => {
        const findings = manifestFolderFindings(parseManifestSecurity((await session.run(platform.observeScript("Root"))).stdout));
        return { value: undefined, ok: findings.length === 0, detail: findings.join("; ") || "owner and access SYSTEM and Administrators only; SHA-256 (SHA256CryptoServiceProvider) agrees" };
      });
      await step(steps, "fail an apply half-way: it must roll back", async () => ({ value: undefined, ...(await provesRollback(session, platform, imported)) }));
    }
    await step(steps, "remove it again", async () => {
      const observed = await applyWith(session, platform, plan({ roots: [] }, await observeWith(session, platform, "Root"), "exact"));
      const left = observed.roots.some((entry) => entry.sha256 === root.sha256);
      return { value: observed, ok: !left, detail: left ? "still in the scratch store" : "gone from the scratch store" };
    });
  } finally {
    await step(steps, `delete ${scratch.where}`, async () => ({ value: undefined, ...(await scratch.remove(session)) }));
  }
  await step(steps, "observe the real store again: untouched", async () => {
    const after = await observeWith(session, real, "Root");
    const same = fingerprintOf(after) === fingerprintOf(before);
    return { value: after, ok: same, detail: same ? "identical to the first observation" : "DIFFERS from the first observation" };
  });
}

/** The self-test's steps on one host, over any runner; `runSelftest` gives it an SSH session. */
export async function selftestCycle(runner: SelftestRunner, platform: PlatformName, steps: SelftestStep[]): Promise<void> {
  await cycle(runner, platform, platform === "windows" ? windowsScratch() : linuxScratch(), steps);
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
        await selftestCycle(session, platform, steps);
      } catch (error) {
        if (!(error instanceof StepFailed) && !steps.some((entry) => !entry.ok)) throw error;
      }
    },
    options,
  );
  return steps;
}
