import { z } from "zod";
import { exitCodeFor, FINDING_KINDS, kindsOf, type FindingKind, type HostFinding } from "./findings";

export const SCAN_REPORT_VERSION = 1;

export interface ScanReport {
  version: typeof SCAN_REPORT_VERSION;
  generatedAt: string;
  failOn: FindingKind[];
  exitCode: 0 | 2 | 3;
  summary: { hosts: number; inSync: number; drift: number; unreachable: number; durationMs: number };
  hosts: HostFinding[];
}

const listed = z.array(z.looseObject({ subject: z.string() }));

/** What merge reads back: every field the merged report, its table and its JUnit use, checked; the rest kept as written. */
export const scanReportFileSchema = z.looseObject({
  version: z.number(),
  generatedAt: z.string(),
  failOn: z.array(z.enum(FINDING_KINDS)),
  exitCode: z.number(),
  summary: z.looseObject({ durationMs: z.number() }),
  hosts: z.array(
    z.looseObject({
      name: z.string(),
      host: z.string(),
      platform: z.string(),
      status: z.enum(["in-sync", "drift", "unreachable"]),
      pendingReboot: z.boolean(),
      missing: listed,
      unexpected: listed,
      distrustedPresent: listed,
      foreign: listed,
      hazards: z.array(z.looseObject({ code: z.string() })),
      expiring: listed,
      expired: listed,
      durationMs: z.number(),
    }),
  ),
});

export function buildReport(findings: HostFinding[], failOn: FindingKind[], durationMs: number, now = new Date()): ScanReport {
  return {
    version: SCAN_REPORT_VERSION,
    generatedAt: now.toISOString(),
    failOn,
    exitCode: exitCodeFor(findings, failOn),
    summary: {
      hosts: findings.length,
      inSync: findings.filter((finding) => finding.status === "in-sync").length,
      drift: findings.filter((finding) => finding.status === "drift").length,
      unreachable: findings.filter((finding) => finding.status === "unreachable").length,
      durationMs,
    },
    hosts: findings,
  };
}

/**
 * One report of several (the shards of one scan, each run by its own CI runner): every host once, the exit code
 * of the whole. The shards must have judged alike (same --fail-on) and scanned different hosts.
 */
export function mergeReports(reports: readonly { file: string; report: ScanReport }[]): ScanReport {
  if (reports.length === 0) throw new Error("merge: give the JSON reports of the shards (trusted-roots scan --shard K/N --json > FILE)");
  const [first] = reports;
  const seen = new Map<string, string>();
  for (const { file, report } of reports) {
    if (report.version !== SCAN_REPORT_VERSION) throw new Error(`${file}: a scan report of version ${String(report.version)}; this version merges version ${SCAN_REPORT_VERSION}`);
    if (report.failOn.join(",") !== first.report.failOn.join(",")) {
      throw new Error(`${file} was judged with --fail-on ${report.failOn.join(",")}, ${first.file} with ${first.report.failOn.join(",")}: give every shard the same --fail-on`);
    }
    for (const host of report.hosts) {
      const earlier = seen.get(host.name);
      if (earlier) throw new Error(`${host.name} is in both ${earlier} and ${file}: the shards overlap (give each runner its own --shard K/N of the same N)`);
      seen.set(host.name, file);
    }
  }
  // The shards ran side by side: the scan took as long as its slowest shard.
  const durationMs = Math.max(...reports.map(({ report }) => report.summary.durationMs));
  const latest = reports.map(({ report }) => report.generatedAt).sort().at(-1)!;
  return buildReport(reports.flatMap(({ report }) => report.hosts), first.report.failOn, durationMs, new Date(latest));
}

const named = (root: { subject: string; store?: string }) => (root.store ? `${root.subject} in ${root.store}` : root.subject);
const names = (roots: { subject: string; store?: string }[]) => roots.map(named).join("; ");

/** A fixed-width table for people; colour only when asked (stdout is a terminal). */
export function renderTable(report: ScanReport, colour: boolean): string {
  const paint = (code: number, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const statusText = (finding: HostFinding) =>
    finding.status === "in-sync" ? paint(32, "in sync") : finding.status === "drift" ? paint(31, "DRIFT") : paint(33, "UNREACHABLE");
  const rows = report.hosts.map((finding) => [
    finding.name,
    finding.host,
    finding.status === "in-sync" ? "in sync" : finding.status === "drift" ? "DRIFT" : "UNREACHABLE",
    statusText(finding),
    [
      finding.reason,
      finding.missing.length ? `missing: ${names(finding.missing)}` : "",
      finding.unexpected.length ? `unexpected managed: ${names(finding.unexpected)}` : "",
      finding.distrustedPresent.length ? `distrusted but trusted: ${names(finding.distrustedPresent)}` : "",
      finding.foreign.length ? `foreign: ${finding.foreign.length}` : "",
      finding.pendingReboot ? "pending reboot" : "",
      finding.hazards.length ? `hazards: ${finding.hazards.map((hazard) => hazard.code).join(", ")}` : "",
      finding.expired.length ? `EXPIRED: ${names(finding.expired)}` : "",
      finding.expiring.length ? `expiring: ${finding.expiring.map((root) => `${root.subject} (${root.notAfter.slice(0, 10)})`).join(", ")}` : "",
    ]
      .filter(Boolean)
      .join(" | "),
  ]);
  const width = (column: number, title: string) => Math.max(title.length, ...rows.map((row) => row[column].length));
  const [nameWidth, hostWidth, statusWidth] = [width(0, "SERVER"), width(1, "HOST"), width(2, "STATUS")];
  const line = (name: string, host: string, plainStatus: string, shownStatus: string, details: string) =>
    `${name.padEnd(nameWidth)}  ${host.padEnd(hostWidth)}  ${shownStatus}${" ".repeat(statusWidth - plainStatus.length)}  ${details}`.trimEnd();
  const { summary } = report;
  return [
    line("SERVER", "HOST", "STATUS", "STATUS", "FINDINGS"),
    ...rows.map(([name, host, plain, shown, details]) => line(name, host, plain, shown, details)),
    "",
    `${summary.hosts} hosts: ${summary.inSync} in sync, ${summary.drift} with drift, ${summary.unreachable} unreachable (${(summary.durationMs / 1000).toFixed(1)} s)`,
  ].join("\n") + "\n";
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[char]!)
    // XML 1.0 cannot carry most control characters at all.
    // eslint-disable-next-line no-control-regex -- matching exactly those characters is the point
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, "?");
}

/** JUnit XML: one testcase per host; drift is a failure, an unreachable host an error (when they fail the run). */
export function renderJunit(report: ScanReport): string {
  const failing = (finding: HostFinding) => kindsOf(finding).filter((kind) => report.failOn.includes(kind));
  const cases = report.hosts.map((finding) => {
    const kinds = failing(finding);
    const details = [
      ...finding.missing.map((root) => `missing: ${named(root)} (SHA-1 ${root.sha1})`),
      ...finding.unexpected.map((root) => `unexpected managed root: ${named(root)} (SHA-1 ${root.sha1})`),
      ...finding.distrustedPresent.map((root) => `distrusted but trusted: ${root.subject} (SHA-1 ${root.sha1})`),
      ...(finding.pendingReboot ? ["pending reboot"] : []),
      ...finding.foreign.map((root) => `foreign (${root.origin}): ${named(root)}`),
      ...finding.hazards.map((hazard) => `hazard ${hazard.code}: ${hazard.detail}`),
      ...finding.expired.map((root) => `expired ${root.notAfter} (${root.origin}): ${root.subject} (SHA-1 ${root.sha1})`),
      ...finding.expiring.map((root) => `expiring ${root.notAfter} (${root.origin}): ${root.subject} (SHA-1 ${root.sha1})`),
    ].join("\n");
    let body = "";
    if (kinds.includes("unreachable")) body = `<error type="unreachable" message="${xml(finding.reason ?? "unreachable")}"/>`;
    else if (kinds.length > 0) body = `<failure type="${kinds.join(",")}" message="${xml(`${kinds.join(", ")} on ${finding.name}`)}">${xml(details)}</failure>`;
    else if (details) body = `<system-out>${xml(details)}</system-out>`;
    return `    <testcase classname="trusted-roots.${xml(finding.platform)}" name="${xml(`${finding.name} (${finding.host})`)}" time="${(finding.durationMs / 1000).toFixed(3)}">${body}</testcase>`;
  });
  const failures = report.hosts.filter((finding) => failing(finding).some((kind) => kind !== "unreachable")).length;
  const errors = report.hosts.filter((finding) => failing(finding).includes("unreachable")).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="trusted-roots scan" tests="${report.hosts.length}" failures="${failures}" errors="${errors}" time="${(report.summary.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="trusted-roots scan" tests="${report.hosts.length}" failures="${failures}" errors="${errors}" timestamp="${report.generatedAt}">`,
    ...cases,
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}
