#!/usr/bin/env node
// `trusted-roots`: scan a fleet for drift without Pulumi state, and inspect certificate files.
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { parseCertificates } from "../certificates";
import { FleetConfigError } from "../config/load";
import { DEFAULT_FAIL_ON, parseFailOn } from "../scan/findings";
import { buildReport, renderJunit, renderTable } from "../scan/report";
import { scanFleet } from "../scan/scan";
import { loadServers, UsageError } from "./inputs";

const USAGE = `usage:
  trusted-roots scan (--stack NAME [--project-dir DIR] | --inventory FILE) [--json] [--junit FILE]
                     [--concurrency N] [--fail-on KINDS]
  trusted-roots inspect [--json] FILE...

scan exit codes: 0 in sync, 2 drift found, 3 some hosts unreachable (and no drift), 1 usage or config error.
--fail-on: comma-separated from missing, unexpected, distrusted, foreign, pending-reboot, unreachable
           (default: ${DEFAULT_FAIL_ON.join(",")}).
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
    },
  });
  const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency: expected a whole number >= 1, got ${JSON.stringify(values.concurrency)}`);
  let failOn = [...DEFAULT_FAIL_ON];
  try {
    if (values["fail-on"] !== undefined) failOn = parseFailOn(values["fail-on"]);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const servers = loadServers({ stack: values.stack, inventory: values.inventory, projectDir: values["project-dir"] }, process.env);
  const started = Date.now();
  const progress = process.stderr.isTTY && servers.length > 1;
  const findings = await scanFleet(servers, {
    concurrency,
    onProgress: progress ? (done, total) => process.stderr.write(`\rscanned ${done}/${total} hosts`) : undefined,
    warn: (message) => process.stderr.write(`${progress ? "\n" : ""}warning: ${message}\n`),
  });
  if (progress) process.stderr.write("\n");
  const report = buildReport(findings, failOn, Date.now() - started);
  if (values.junit) writeFileSync(values.junit, renderJunit(report));
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + "\n" : renderTable(report, Boolean(process.stdout.isTTY)));
  return report.exitCode;
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

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "scan") return await scan(rest);
    if (command === "inspect") return inspect(rest);
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
