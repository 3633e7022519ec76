import { parseArgs } from "node:util";
import { DEFAULT_EXPIRING_DAYS, DEFAULT_FAIL_ON, FINDING_KINDS } from "../scan/findings";
import { PLATFORM_NAMES } from "../platforms";

/** One option of a command: how util.parseArgs reads it and how its help line reads. */
interface OptionSpec {
  type: "string" | "boolean";
  /** The value's name in the help (`--stack NAME`); string options only. */
  value?: string;
  help: string;
}

/** A command, declared once: its options feed both the parser and the help. */
export interface CommandSpec {
  name: string;
  summary: string;
  /** What follows the options in the synopsis, e.g. `FILE...`. */
  positionals?: string;
  options: Record<string, OptionSpec>;
  /** Paragraphs after the options: exit codes, environment. */
  notes: string[];
}

const CREDENTIALS_NOTE =
  "Credentials: TRUSTED_ROOTS_PRIVATE_KEY or TRUSTED_ROOTS_PRIVATE_KEY_FILE (+ TRUSTED_ROOTS_PASSPHRASE), TRUSTED_ROOTS_PASSWORD, or an ssh-agent (SSH_AUTH_SOCK).";

const HELP_OPTION: OptionSpec = { type: "boolean", help: "print this help and exit" };

export const COMMANDS = {
  scan: {
    name: "scan",
    summary: "compare every server's real store with its declaration, without Pulumi state",
    options: {
      stack: { type: "string", value: "NAME", help: "read Pulumi.NAME.yaml (with --project-dir, default .)" },
      "project-dir": { type: "string", value: "DIR", help: "the directory of Pulumi.yaml and the stack files" },
      inventory: { type: "string", value: "FILE", help: "read a YAML or JSON inventory instead of a stack" },
      json: { type: "boolean", help: "print the report as JSON" },
      junit: { type: "string", value: "FILE", help: "also write a JUnit report to FILE" },
      concurrency: { type: "string", value: "N", help: "hosts scanned at once (default: 8 per core, 4 to 64)" },
      "fail-on": { type: "string", value: "KINDS", help: `comma-separated from ${FINDING_KINDS.join(", ")} (default: ${DEFAULT_FAIL_ON.join(",")})` },
      "expiring-days": { type: "string", value: "N", help: `managed and foreign roots expiring within N days are "expiring" (default ${DEFAULT_EXPIRING_DAYS})` },
      shard: { type: "string", value: "K/N", help: "scan only the K-th of N shards of the fleet (by server name): one per CI runner" },
    },
    notes: [
      "Give exactly one of --stack or --inventory.",
      "Sharded: each runner scans --shard K/N --json > shard-K.json; a last job runs trusted-roots merge shard-*.json.",
      "Exit codes: 0 in sync, 2 drift found, 3 some hosts unreachable (and no drift), 1 usage or config error.",
      CREDENTIALS_NOTE,
      "Root sets fetched from LDAP bind with TRUSTED_ROOTS_LDAP_PASSWORD; a proxy's login is TRUSTED_ROOTS_PROXY_CREDENTIALS (user:password).",
    ],
  },
  merge: {
    name: "merge",
    summary: "merge the JSON reports of a sharded scan into one report, with the exit code of the whole",
    positionals: "FILE...",
    options: {
      json: { type: "boolean", help: "print the merged report as JSON" },
      junit: { type: "string", value: "FILE", help: "also write a JUnit report of every host to FILE" },
    },
    notes: [
      "Each FILE is the output of trusted-roots scan --shard K/N --json. The shards must share --fail-on and scan different hosts.",
      "Exit codes: as scan's, for the whole fleet (0 in sync, 2 drift, 3 unreachable only), 1 a report is missing or does not fit.",
    ],
  },
  inspect: {
    name: "inspect",
    summary: "show each certificate of PEM, DER or PKCS#7 files: subject, thumbprints, validity, kind, key",
    positionals: "FILE...",
    options: { json: { type: "boolean", help: "print the certificates as JSON" } },
    notes: ["Exit codes: 0 every file read, 1 a file is missing or holds no certificate."],
  },
  selftest: {
    name: "selftest",
    summary: "prove the production scripts on one host, in a scratch store, leaving the real store unchanged",
    options: {
      host: { type: "string", value: "HOST", help: "the server (required)" },
      platform: { type: "string", value: "PLATFORM", help: `${PLATFORM_NAMES.join("|")} (required)` },
      "host-key": { type: "string", value: "KEY", help: "its pinned host key: known_hosts line, public key or SHA256:... (required)" },
      port: { type: "string", value: "N", help: "SSH port (default 22)" },
      user: { type: "string", value: "USER", help: "SSH user (default root)" },
      json: { type: "boolean", help: "print the steps as JSON" },
    },
    notes: [
      "Observes the real store read-only, then imports and removes a throw-away root in a scratch store (/tmp/trusted-roots-selftest.* or Cert:\\LocalMachine\\TrustedRootsSelftest), cleans up, and proves the real store unchanged.",
      "Exit codes: 0 all steps passed, 2 a step failed, 1 usage error or host unreachable.",
      CREDENTIALS_NOTE,
    ],
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMANDS, name);
}

/** `--stack NAME`, `--json`: an option as the synopsis and the help show it. */
function optionLabel(name: string, option: OptionSpec): string {
  return option.value ? `--${name} ${option.value}` : `--${name}`;
}

/** The usage text of one command, from its declaration. */
export function commandHelp(spec: CommandSpec): string {
  const options = Object.entries(spec.options);
  const width = Math.max(...options.map(([name, option]) => optionLabel(name, option).length), "-h, --help".length);
  return [
    `usage: trusted-roots ${spec.name} [options]${spec.positionals ? ` ${spec.positionals}` : ""}`,
    "",
    `${spec.summary}.`,
    "",
    "options:",
    ...options.map(([name, option]) => `  ${optionLabel(name, option).padEnd(width)}  ${option.help}`),
    `  ${"-h, --help".padEnd(width)}  ${HELP_OPTION.help}`,
    "",
    ...spec.notes,
  ].join("\n");
}

/** The overview: every command with its summary. */
export function overviewHelp(): string {
  const specs: CommandSpec[] = Object.values(COMMANDS);
  const width = Math.max(...specs.map((spec) => spec.name.length));
  return [
    "usage: trusted-roots COMMAND [options]",
    "",
    "commands:",
    ...specs.map((spec) => `  ${spec.name.padEnd(width)}  ${spec.summary}`),
    "",
    "`trusted-roots help COMMAND` or `trusted-roots COMMAND --help` prints a command's options.",
  ].join("\n");
}

export type ParsedCommand = { help: true } | { help: false; values: Record<string, string | boolean | undefined>; positionals: string[] };

/** Parse `argv` with the command's declared options; `--help`/`-h` anywhere asks for its help instead. */
export function parseCommand(spec: CommandSpec, argv: string[]): ParsedCommand {
  const options = Object.fromEntries(Object.entries(spec.options).map(([name, option]) => [name, { type: option.type }]));
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...options, help: { type: "boolean", short: "h" } },
    allowPositionals: spec.positionals !== undefined,
    strict: true,
  });
  if (values.help) return { help: true };
  return { help: false, values: values as Record<string, string | boolean | undefined>, positionals };
}
