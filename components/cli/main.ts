#!/usr/bin/env node
// `trusted-roots`: scan a fleet for drift without Pulumi state, and inspect certificate files.
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { parseCertificates } from "../certificates";
import { DEFAULT_EXPIRING_DAYS, DEFAULT_FAIL_ON, parseFailOn } from "../scan/findings";
import { buildReport, mergeReports, renderJunit, renderTable, scanReportFileSchema, type ScanReport } from "../scan/report";
import { inShard, parseShard } from "../scan/shard";
import { progressLine, scanFleet } from "../scan/scan";
import { PLATFORM_NAMES, type PlatformName } from "../platforms";
import { runSelftest } from "../selftest/run";
import { DEFAULT_SSH_PORT, DEFAULT_SSH_USER, markCommandStart, PHASES, sshCredentialsFromEnvironment, timedPhase, TransportError } from "../transport";
import { COMMANDS, commandHelp, isCommandName, overviewHelp, parseCommand, type CommandName } from "./commands";
import { loadServers, readEnvironment, UsageError } from "./inputs";

// SSH handshakes are CPU-bound on the scanning machine: a few per core keeps it busy without thrashing.
const DEFAULT_CONCURRENCY = Math.min(64, Math.max(4, availableParallelism() * 8));

type Values = Record<string, string | boolean | undefined>;
const text = (values: Values, name: string): string | undefined => values[name] as string | undefined;

async function scan(values: Values): Promise<number> {
  markCommandStart();
  const expiringDays = values["expiring-days"] === undefined ? DEFAULT_EXPIRING_DAYS : Number(values["expiring-days"]);
  const failOnText = text(values, "fail-on");
  if (!Number.isInteger(expiringDays) || expiringDays < 0) {
    throw new UsageError(`--expiring-days: expected a whole number of days >= 0, got ${JSON.stringify(values["expiring-days"])}`);
  }
  const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency: expected a whole number >= 1, got ${JSON.stringify(values.concurrency)}`);
  let failOn = [...DEFAULT_FAIL_ON];
  try {
    if (failOnText !== undefined) failOn = parseFailOn(failOnText);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const stack = text(values, "stack");
  const projectDir = text(values, "project-dir");
  const shardText = text(values, "shard");
  let shard;
  try {
    shard = shardText === undefined ? undefined : parseShard(shardText);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const fleet = await timedPhase(PHASES.readInventory, () => loadServers({ stack, inventory: text(values, "inventory"), projectDir }, process.env));
  const servers = shard ? fleet.filter((server) => inShard(server.name, shard)) : fleet;
  const started = Date.now();
  const progress = process.stderr.isTTY && servers.length > 1;
  const findings = await scanFleet(servers, {
    concurrency,
    ownerPrefix: stack ? ownerPrefixOf(projectDir ?? ".", stack) : undefined,
    expiringDays,
    // A terminal only: a pipeline's log gets the report, not a line per host.
    onProgress: progress ? (state) => process.stderr.write(`\r${progressLine(state)}`) : undefined,
    warn: (message) => process.stderr.write(`${progress ? "\n" : ""}warning: ${message}\n`),
  });
  if (progress) process.stderr.write("\n");
  return printReport(buildReport(findings, failOn, Date.now() - started), values);
}

/** The report as asked (JSON or a table, a JUnit file beside); its exit code. */
function printReport(report: ScanReport, values: Values): number {
  const junit = text(values, "junit");
  if (junit) writeFileSync(junit, renderJunit(report));
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + "\n" : renderTable(report, Boolean(process.stdout.isTTY)));
  return report.exitCode;
}

function merge(values: Values, positionals: string[]): number {
  if (positionals.length === 0) throw new UsageError("merge: give the JSON reports of the shards (trusted-roots scan --shard K/N --json > FILE)");
  const reports = positionals.map((file) => {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new UsageError(`${file}: not a JSON scan report (${(error as Error).message}); write one with trusted-roots scan --json > ${file}`);
    }
    const parsed = scanReportFileSchema.safeParse(json);
    if (!parsed.success) throw new UsageError(`${file}: not a scan report: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "(top)"}: ${issue.message}`).join("; ")}`);
    // Checked above field by field; the version is checked by mergeReports, which names the file.
    return { file, report: parsed.data as unknown as ScanReport };
  });
  try {
    return printReport(mergeReports(reports), values);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** `<project>/<stack>/`, the prefix of this stack's owner ids in host manifests; the project from Pulumi.yaml. */
function ownerPrefixOf(projectDir: string, stack: string): string | undefined {
  try {
    const project = (parse(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")) as { name?: unknown } | null)?.name;
    return typeof project === "string" ? `${project}/${stack}/` : undefined;
  } catch {
    return undefined;
  }
}

function inspect(values: Values, positionals: string[]): number {
  if (positionals.length === 0) throw new UsageError("inspect: give one or more certificate files (PEM, DER, .p7b)");
  const files = positionals.map((file) => ({
    file,
    certificates: parseCertificates(readFileSync(file), { name: file }).map(({ der: _der, pem: _pem, ...fields }) => fields),
  }));
  if (values.json) {
    process.stdout.write(JSON.stringify(files, null, 2) + "\n");
    return 0;
  }
  for (const { file, certificates } of files) {
    for (const certificate of certificates) {
      process.stdout.write(
        [
          `${file}: ${certificate.subject}`,
          `  issuer:      ${certificate.issuer}`,
          `  SHA-1:       ${certificate.sha1}   (the Windows thumbprint)`,
          `  SHA-256:     ${certificate.sha256}`,
          `  valid:       ${certificate.notBefore} .. ${certificate.notAfter}`,
          `  kind:        ${certificate.kind} (CA: ${certificate.isCA ? "yes" : "no"}, self-signed: ${certificate.selfSigned ? "yes" : "no"})`,
          `  key:         ${certificate.keyAlgorithm} ${certificate.keySize} bits, signed with ${certificate.signatureAlgorithm}`,
          `  serial:      ${certificate.serial}`,
          "",
        ].join("\n"),
      );
    }
  }
  return 0;
}

async function selftest(values: Values): Promise<number> {
  const host = text(values, "host");
  const platform = text(values, "platform");
  const hostKey = text(values, "host-key");
  if (!host) throw new UsageError("selftest: --host is required");
  if (!platform || !(PLATFORM_NAMES as readonly string[]).includes(platform)) {
    throw new UsageError(`selftest: --platform must be one of ${PLATFORM_NAMES.join(", ")}`);
  }
  if (!hostKey) throw new UsageError(`selftest: --host-key is required (ssh-keyscan -t ed25519 ${host}, verified out of band)`);
  const connection = {
    host,
    port: values.port === undefined ? DEFAULT_SSH_PORT : Number(values.port),
    user: text(values, "user") ?? DEFAULT_SSH_USER,
    hostKey,
    ...readEnvironment(sshCredentialsFromEnvironment, process.env),
  };
  let steps;
  try {
    steps = await runSelftest(connection, platform as PlatformName, { warn: (message) => process.stderr.write(`warning: ${message}\n`) });
  } catch (error) {
    if (error instanceof TransportError || /^selftest supports/.test((error as Error).message)) throw new UsageError((error as Error).message);
    throw error;
  }
  const passed = steps.every((entry) => entry.ok);
  if (values.json) {
    process.stdout.write(JSON.stringify({ host, platform, passed, steps }, null, 2) + "\n");
  } else {
    const width = Math.max(...steps.map((entry) => entry.step.length));
    for (const entry of steps) {
      process.stdout.write(`${entry.ok ? "ok  " : "FAIL"}  ${entry.step.padEnd(width)}  ${String(entry.ms).padStart(6)} ms  ${entry.detail}\n`);
    }
    process.stdout.write(passed ? `\nselftest passed on ${host}\n` : `\nselftest FAILED on ${host}\n`);
  }
  return passed ? 0 : 2;
}

const RUN: Record<CommandName, (values: Values, positionals: string[]) => Promise<number> | number> = { scan, merge, inspect, selftest };

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    const topic = rest[0];
    if (topic !== undefined && !isCommandName(topic)) return fail(new UsageError(`unknown command "${topic}"`));
    process.stdout.write(`${topic ? commandHelp(COMMANDS[topic]) : overviewHelp()}\n`);
    return 0;
  }
  if (!isCommandName(command)) return fail(new UsageError(command ? `unknown command "${command}"` : "no command given"));
  try {
    const parsed = parseCommand(COMMANDS[command], rest);
    if (parsed.help) {
      process.stdout.write(`${commandHelp(COMMANDS[command])}\n`);
      return 0;
    }
    return await RUN[command](parsed.values, parsed.positionals);
  } catch (error) {
    return fail(error, command);
  }
}

/** Print an error; a usage mistake also prints the usage of the command it concerns (or the overview). */
function fail(error: unknown, command?: CommandName): number {
  const usageMistake = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  const usage = command ? commandHelp(COMMANDS[command]) : overviewHelp();
  process.stderr.write(`trusted-roots: ${(error as Error).message}\n${usageMistake ? `\n${usage}\n` : ""}`);
  return 1;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
