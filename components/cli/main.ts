#!/usr/bin/env node
// `trusted-roots`: scan a fleet for drift without Pulumi state, and inspect certificate files.
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { parse } from "yaml";
import { parseCertificates } from "../certificates";
import { FleetConfigError } from "../config/load";
import { DEFAULT_EXPIRING_DAYS, DEFAULT_FAIL_ON, FINDING_KINDS, parseFailOn } from "../scan/findings";
import { buildReport, renderJunit, renderTable } from "../scan/report";
import { scanFleet } from "../scan/scan";
import { PLATFORM_NAMES, type PlatformName } from "../platforms";
import { runSelftest } from "../selftest/run";
import { TransportError } from "../transport";
import { loadServers, secretsFromEnvironment, UsageError } from "./inputs";

const USAGE = `usage:
  trusted-roots scan (--stack NAME [--project-dir DIR] | --inventory FILE) [--json] [--junit FILE]
                     [--concurrency N] [--fail-on KINDS] [--expiring-days N]
  trusted-roots inspect [--json] FILE...
  trusted-roots selftest --host HOST --platform debian|windows --host-key KEY [--port N] [--user U] [--json]

selftest: observes the real store read-only, then imports and removes a throw-away root in a scratch store
(/tmp/trusted-roots-selftest.* or Cert:\\LocalMachine\\TrustedRootsSelftest), cleans up, proves the real
store unchanged. Exit 0 all steps passed, 2 a step failed.
scan exit codes: 0 in sync, 2 drift found, 3 some hosts unreachable (and no drift), 1 usage or config error.
--fail-on: comma-separated from ${FINDING_KINDS.join(", ")}
           (default: ${DEFAULT_FAIL_ON.join(",")}).
--expiring-days: managed and foreign roots expiring within N days are "expiring" (default ${DEFAULT_EXPIRING_DAYS}).
Credentials: TRUSTED_ROOTS_PRIVATE_KEY or TRUSTED_ROOTS_PRIVATE_KEY_FILE (+ TRUSTED_ROOTS_PASSPHRASE),
             TRUSTED_ROOTS_PASSWORD, or an ssh-agent (SSH_AUTH_SOCK).`;

// SSH handshakes are CPU-bound on the scanning machine: a few per core keeps it busy without thrashing.
const DEFAULT_CONCURRENCY = Math.min(64, Math.max(4, availableParallelism() * 8));

async function scan(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      "project-dir": { type: "string" },
      inventory: { type: "string" },
      json: { type: "boolean", default: false },
      junit: { type: "string" },
      concurrency: { type: "string" },
      "fail-on": { type: "string" },
      "expiring-days": { type: "string" },
    },
  });
  const expiringDays = values["expiring-days"] === undefined ? DEFAULT_EXPIRING_DAYS : Number(values["expiring-days"]);
  if (!Number.isInteger(expiringDays) || expiringDays < 0) {
    throw new UsageError(`--expiring-days: expected a whole number of days >= 0, got ${JSON.stringify(values["expiring-days"])}`);
  }
  const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency: expected a whole number >= 1, got ${JSON.stringify(values.concurrency)}`);
  let failOn = [...DEFAULT_FAIL_ON];
  try {
    if (values["fail-on"] !== undefined) failOn = parseFailOn(values["fail-on"]);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const servers = await loadServers({ stack: values.stack, inventory: values.inventory, projectDir: values["project-dir"] }, process.env);
  const started = Date.now();
  const progress = process.stderr.isTTY && servers.length > 1;
  const findings = await scanFleet(servers, {
    concurrency,
    ownerPrefix: values.stack ? ownerPrefixOf(values["project-dir"] ?? ".", values.stack) : undefined,
    expiringDays,
    onProgress: progress ? (done, total) => process.stderr.write(`\rscanned ${done}/${total} hosts`) : undefined,
    warn: (message) => process.stderr.write(`${progress ? "\n" : ""}warning: ${message}\n`),
  });
  if (progress) process.stderr.write("\n");
  const report = buildReport(findings, failOn, Date.now() - started);
  if (values.junit) writeFileSync(values.junit, renderJunit(report));
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + "\n" : renderTable(report, Boolean(process.stdout.isTTY)));
  return report.exitCode;
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

function inspect(argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: "boolean", default: false } }, allowPositionals: true });
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

async function selftest(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      user: { type: "string" },
      platform: { type: "string" },
      "host-key": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (!values.host) throw new UsageError("selftest: --host is required");
  if (!values.platform || !(PLATFORM_NAMES as readonly string[]).includes(values.platform)) {
    throw new UsageError(`selftest: --platform must be one of ${PLATFORM_NAMES.join(", ")}`);
  }
  if (!values["host-key"]) throw new UsageError(`selftest: --host-key is required (ssh-keyscan -t ed25519 ${values.host}, verified out of band)`);
  const secrets = secretsFromEnvironment(process.env);
  const connection = {
    host: values.host,
    port: values.port === undefined ? 22 : Number(values.port),
    user: values.user ?? "root",
    hostKey: values["host-key"],
    privateKey: secrets.privateKey as string | undefined,
    passphrase: secrets.passphrase as string | undefined,
    password: secrets.password as string | undefined,
    agent: secrets.privateKey || secrets.password ? undefined : secrets.agent,
  };
  let steps;
  try {
    steps = await runSelftest(connection, values.platform as PlatformName, { warn: (message) => process.stderr.write(`warning: ${message}\n`) });
  } catch (error) {
    if (error instanceof TransportError || /^selftest supports/.test((error as Error).message)) throw new UsageError((error as Error).message);
    throw error;
  }
  const passed = steps.every((entry) => entry.ok);
  if (values.json) {
    process.stdout.write(JSON.stringify({ host: values.host, platform: values.platform, passed, steps }, null, 2) + "\n");
  } else {
    const width = Math.max(...steps.map((entry) => entry.step.length));
    for (const entry of steps) {
      process.stdout.write(`${entry.ok ? "ok  " : "FAIL"}  ${entry.step.padEnd(width)}  ${String(entry.ms).padStart(6)} ms  ${entry.detail}\n`);
    }
    process.stdout.write(passed ? `\nselftest passed on ${values.host}\n` : `\nselftest FAILED on ${values.host}\n`);
  }
  return passed ? 0 : 2;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "scan") return await scan(rest);
    if (command === "inspect") return inspect(rest);
    if (command === "selftest") return await selftest(rest);
    if (command === "--help" || command === "-h" || command === "help") {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    throw new UsageError(command ? `unknown command "${command}"` : "no command given");
  } catch (error) {
    if (error instanceof UsageError || error instanceof FleetConfigError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`trusted-roots: ${(error as Error).message}\n${error instanceof UsageError ? `\n${USAGE}\n` : ""}`);
      return 1;
    }
    process.stderr.write(`trusted-roots: ${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
