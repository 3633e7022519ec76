// HostReboot, ServiceRestart and HealthCheck methods the provider plugin routes to, on plain values.
import type * as provider from "@pulumi/pulumi/provider";
import { platformFor, type BootReading } from "../platforms";
import { bastionTunnel, targetLabel, TransportError, withSession, parseSshTarget, type SshTargetInput } from "../transport";
import { restartScript, serviceRestartScript, userCommand } from "./afterChangeScripts";
import { afterChangeInputsSchema, mustAct, type AfterChangeOutputs, type ValidAfterChangeInputs } from "./afterChangeCore";
import { warnToEngine } from "./engineLog";
import { containsUnknown, definedFields, describeIssues, parseInputs, stableStringify } from "./shared";
import { forPlatform, runHealthCheck } from "./health";

type Inputs = Record<string, unknown>;
const warn = warnToEngine;
const POLL_SECONDS = 2;

const validated = (inputs: Inputs): ValidAfterChangeInputs => parseInputs(afterChangeInputsSchema, inputs);

async function readBootId(connection: SshTargetInput, inputs: ValidAfterChangeInputs): Promise<BootReading> {
  const platform = platformFor(inputs.platform);
  return withSession(connection, async (session) => platform.parseBootId((await session.run(platform.bootIdScript())).stdout), { warn });
}

/** Reboot, then wait for the host to answer from a later boot (the platform says what "later" means). */
export async function rebootAndWait(inputs: ValidAfterChangeInputs, label: string): Promise<{ before: string; after: string }> {
  const platform = platformFor(inputs.platform);
  const before = await readBootId(inputs.connection, inputs);
  const reboot = inputs.rebootCommand ? userCommand(inputs.platform, inputs.rebootCommand) : platform.rebootScript(inputs.delaySeconds);
  await withSession(inputs.connection, (session) => session.run(reboot), { warn }).catch((error: unknown) => {
    // A reboot command may take the session down with it; the boot id below tells whether it worked.
    if (!(error instanceof TransportError && error.failure === "unreachable")) throw error;
  });
  const deadline = Date.now() + inputs.timeoutSeconds * 1000;
  const probe = { ...inputs.connection, connectTimeoutSeconds: 5, retries: 0 };
  let last = "the host still reported its old boot id";
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_SECONDS * 1000));
    try {
      const after = await readBootId(probe, inputs);
      if (platform.rebootedSince(before, after)) return { before: before.id, after: after.id };
      last = "the host still reported its old boot id (not down yet)";
    } catch (error) {
      last = (error as Error).message;
    }
  }
  throw new Error(`${label}: did not come back with a new boot id within ${inputs.timeoutSeconds} s of the reboot; last seen: ${last}`);
}

/** The health check, from the bastion when the server sits behind one (it may have no route from here). */
async function healthCheckFrom(inputs: ValidAfterChangeInputs) {
  const target = parseSshTarget(inputs.connection);
  const check = forPlatform(inputs.healthCheck!, inputs.platform);
  if (!target.bastion) return runHealthCheck(check, targetLabel(target));
  const { tunnel, close } = await bastionTunnel(target.bastion);
  try {
    return await runHealthCheck(check, targetLabel(target), tunnel);
  } finally {
    close();
  }
}

async function act(inputs: ValidAfterChangeInputs): Promise<Omit<AfterChangeOutputs, keyof ValidAfterChangeInputs | "acted">> {
  const started = Date.now();
  const label = targetLabel(parseSshTarget(inputs.connection));
  let boot: { before: string; after: string } | undefined;
  const rebootSkipped = inputs.kind === "reboot" && inputs.onlyIfPending && inputs.pendingReboot !== true;
  if (inputs.kind === "reboot" && !rebootSkipped) {
    boot = await rebootAndWait(inputs, label);
  } else if (inputs.kind === "restart") {
    const script = inputs.preset
      ? restartScript(inputs.platform, inputs.preset)
      : inputs.service
        ? serviceRestartScript(inputs.platform, inputs.service)
        : userCommand(inputs.platform, inputs.command!);
    await withSession(inputs.connection, (session) => session.run(script), { warn });
  }
  if (inputs.testCommand) {
    await withSession(inputs.connection, (session) => session.run(userCommand(inputs.platform, inputs.testCommand!)), { warn }).catch(
      (error: Error) => {
        throw new Error(`${label}: the test command failed after the ${inputs.kind === "verify" ? "store change" : inputs.kind}: ${error.message}`);
      },
    );
  }
  const health = inputs.healthCheck ? await healthCheckFrom(inputs) : undefined;
  return {
    bootIdBefore: boot?.before,
    bootIdAfter: boot?.after,
    ...(rebootSkipped ? { rebootSkipped: true } : {}),
    healthStatus: health?.status,
    seconds: (Date.now() - started) / 1000,
  };
}

// The state's outputs repeat the inputs as given (no filled-in defaults), so a refresh that reads them back as
// inputs shows no difference with the program.
async function run(olds: Partial<ValidAfterChangeInputs> | undefined, news: Inputs): Promise<AfterChangeOutputs> {
  const inputs = validated(news);
  if (!mustAct(olds, inputs)) return definedFields({ ...news, acted: false, seconds: 0 }) as unknown as AfterChangeOutputs;
  return definedFields({ ...news, acted: true, ...(await act(inputs)) }) as unknown as AfterChangeOutputs;
}

const OUTPUT_ONLY = new Set(["acted", "bootIdBefore", "bootIdAfter", "rebootSkipped", "healthStatus", "seconds"]);

/** Nothing to observe on the host: the state is what it is, and its inputs are the outputs' input part. */
export async function read(id: string, props: Inputs): Promise<provider.ReadResult> {
  return { id, props, inputs: Object.fromEntries(Object.entries(props).filter(([key]) => !OUTPUT_ONLY.has(key))) };
}

export async function check(_olds: Inputs, news: Inputs): Promise<provider.CheckResult> {
  if (containsUnknown(news)) return { inputs: news };
  const parsed = afterChangeInputsSchema.safeParse(news);
  // As given, like TrustStore's check: defaults are filled in where they are used.
  return parsed.success ? { inputs: news } : { failures: describeIssues(parsed.error) };
}

export async function diff(_id: string, olds: Inputs, news: Inputs): Promise<provider.DiffResult> {
  if (containsUnknown(news)) return { changes: true };
  // Parsing drops the outputs (acted, boot ids...), leaving the inputs the state was made from.
  return { changes: stableStringify(validated(olds)) !== stableStringify(validated(news)) };
}

export async function create(news: Inputs): Promise<provider.CreateResult> {
  const outs = await run(undefined, news);
  return { id: `${outs.kind}/${validated(news).connection.host}`, outs };
}

export async function update(_id: string, olds: Inputs, news: Inputs): Promise<provider.UpdateResult> {
  return { outs: await run(olds as unknown as ValidAfterChangeInputs, news) };
}
