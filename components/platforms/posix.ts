import { issuedBy, toPem } from "../certificates";
import { manifestBackupPath, manifestDigest, parseManifest, renderManifest } from "./manifest";
import { listedFor, mergeObservedRoots, readHeldCertificates, type HeldCertificate, type HeldCertificates } from "./observation";
import { decodeField, decodeFieldBytes, parseRecords, ProtocolError } from "./protocol";
import { shQuote } from "./shell";
import type {
  ApplyOutcome,
  ObservedRoot,
  ObservedStore,
  Platform,
  PlatformName,
  RemoteScript,
  StoreHazard,
  StoreName,
  StorePlan,
} from "./types";
import { planChangesStore } from "./types";

export const STATE_DIR = "/var/lib/trusted-roots";
export const SHELL = "/bin/sh -s";

/** How one Linux family keeps its trust store; each family's file fills this in. */
export interface PosixLayout {
  name: PlatformName;
  /** Where local roots go (the family's "anchors" directory). */
  anchorsDir: string;
  /** The only file suffix the refresh command reads from anchorsDir, when it filters (Debian: .crt). */
  anchorSuffix?: string;
  /** Suffix of the files this tool writes. */
  ownSuffix: string;
  /** The compiled bundle that TLS libraries read: the effective trust set. */
  bundlePath: string;
  /** Shell command that rebuilds the bundle; `afterRemoval` when something was taken away. */
  refreshCommand(afterRemoval: boolean): string;
  distrust: { kind: "blocklist"; dir: string } | { kind: "ca-certificates.conf"; conf?: string; shippedDir?: string };
  /**
   * p11-kit families: the source directory whose top-level certificate files have neutral trust (known to the
   * system for building chains, never anchors): where the "CA" store keeps intermediates and cross-signed
   * certificates. Without it (update-ca-certificates families) they go to anchorsDir and into the bundle, where
   * OpenSSL still needs each chain to end at a self-signed root it trusts.
   */
  intermediatesDir?: string;
  /** Shell condition that is true when the OS wants a reboot. */
  pendingRebootTest: string;
  /** Where the manifest, the lock and transactions live (default /var/lib/trusted-roots). */
  stateDir?: string;
}

export const stateDirOf = (layout: PosixLayout): string => layout.stateDir ?? STATE_DIR;
/** Debian's selection of shipped roots ("!" deselects one) and where the shipped roots are. */
const selectionOf = (layout: PosixLayout) =>
  layout.distrust.kind === "ca-certificates.conf"
    ? { conf: layout.distrust.conf ?? "/etc/ca-certificates.conf", shippedDir: layout.distrust.shippedDir ?? "/usr/share/ca-certificates" }
    : undefined;
const manifestPathOf = (layout: PosixLayout) => `${stateDirOf(layout)}/manifest.json`;

const SHA256_HEX = /^[0-9A-F]{64}$/;

/** The file this tool writes for a root: derived from the fingerprint only, never from user text. */
export function ownAnchorPath(layout: PosixLayout, sha256: string, dir = layout.anchorsDir): string {
  if (!SHA256_HEX.test(sha256)) throw new Error(`internal: not a SHA-256 fingerprint: ${JSON.stringify(sha256)}`);
  return `${dir}/trusted-roots-${sha256.toLowerCase()}${layout.ownSuffix}`;
}

// Emits one `@@<kind> <base64 path> <base64 content>` record per file; the program text is a constant.
const EMIT_FILES = `'for f do printf "@@%s %s %s\\n" "$0" "$(printf %s "$f" | base64 | tr -d "\\n")" "$(base64 < "$f" | tr -d "\\n")"; done'`;

/**
 * The observe records every store of a host prints first: its boot id and whether it owes a reboot. `read` is a
 * builtin: a scan's observe runs on every host of a fleet, and each process it starts costs the host a fork and exec.
 */
export function hostFactLines(layout: PosixLayout): string {
  return `  trl_boot_id=unknown
  read -r trl_boot_id 2>/dev/null </proc/sys/kernel/random/boot_id || :
  printf '@@boot-id %s\\n' "$trl_boot_id"
  if ${layout.pendingRebootTest}; then echo '@@pending-reboot yes'; else echo '@@pending-reboot no'; fi`;
}

// A file as one base64 line, without a line feed: `base64 -w 0` (GNU coreutils, newer BusyBox) is one process
// where the pipe through tr is two and a second pass over the ~270 KB bundle; the probe decides once per run.
const BASE64_LINE_FUNCTION = `  if base64 -w 0 /dev/null >/dev/null 2>&1; then trl_b64() { base64 -w 0 "$1"; }; else trl_b64() { base64 "$1" | tr -d '\\n'; }; fi`;

/** `@@<kind> <base64 of file>` on one line, printed without a command substitution's fork. */
const emitFileLine = (kind: string, path: string) => `printf '@@${kind} '; trl_b64 ${shQuote(path)}; echo`;

function observeFunction(layout: PosixLayout): string {
  const anchorFilter = layout.anchorSuffix ? ` -name ${shQuote(`*${layout.anchorSuffix}`)}` : "";
  const distrusted =
    layout.distrust.kind === "blocklist"
      ? `if [ -d ${shQuote(layout.distrust.dir)} ]; then find ${shQuote(layout.distrust.dir)} -type f -exec sh -c ${EMIT_FILES} distrusted {} +; fi`
      : // The "!" lines of the selection, read by the shell itself (a sed and a subshell less per observe).
        `if [ -f ${shQuote(selectionOf(layout)!.conf)} ]; then while IFS= read -r trl_line || [ -n "$trl_line" ]; do
    case $trl_line in '!'*) trl_rel=\${trl_line#!}
      if [ -f ${shQuote(selectionOf(layout)!.shippedDir)}/"$trl_rel" ]; then sh -c ${EMIT_FILES} distrusted ${shQuote(selectionOf(layout)!.shippedDir)}/"$trl_rel"; fi ;;
    esac
  done <${shQuote(selectionOf(layout)!.conf)}; fi`;
  return `trusted_roots_observe() {
${hostFactLines(layout)}
${BASE64_LINE_FUNCTION}
  if [ -f ${shQuote(manifestPathOf(layout))} ]; then ${emitFileLine("manifest", manifestPathOf(layout))}; fi
  if [ -d ${shQuote(layout.anchorsDir)} ]; then find ${shQuote(layout.anchorsDir)} -type f${anchorFilter} -exec sh -c ${EMIT_FILES} anchor {} +; fi${
    layout.intermediatesDir
      ? `\n  if [ -d ${shQuote(layout.intermediatesDir)} ]; then find ${shQuote(layout.intermediatesDir)} -maxdepth 1 -type f -exec sh -c ${EMIT_FILES} intermediate {} +; fi`
      : ""
  }
  ${distrusted}
  if [ -f ${shQuote(layout.bundlePath)} ]; then ${emitFileLine("bundle", layout.bundlePath)}; else echo '@@bundle'; fi
  echo '@@end'
}`;
}

const PRELUDE = `set -u
umask 022
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C
export PATH LC_ALL`;

// The whole program is one function called on the last line: a script cut short in transit defines
// nothing and runs nothing (cut inside the data, the quote is never closed: a syntax error).
export function wrap(body: string, data: readonly string[] = []): string {
  const plan = data.length > 0 ? `TRUSTED_ROOTS_PLAN='\n${data.join("\n")}\n'\n` : "";
  return `${PRELUDE}\ntrusted_roots_main() {\n${body}\n}\n${plan}trusted_roots_main </dev/null\n`;
}

function observeScript(layout: PosixLayout): RemoteScript {
  const program = `${observeFunction(layout)}\n  echo '@@begin observe'\n  trusted_roots_observe`;
  return { command: SHELL, stdin: wrap(program), elevation: "sudo" };
}

interface FileChange {
  path: string;
  /** New content, or undefined to delete the file. */
  content?: Buffer;
  step: "import" | "remove" | "distrust" | "undistrust" | "manifest";
}

/** Where a store's own files go: roots to the anchors, the "CA" store's certificates where the family keeps them. */
function storeDir(layout: PosixLayout, store: StoreName): string {
  return store === "CA" ? (layout.intermediatesDir ?? layout.anchorsDir) : layout.anchorsDir;
}

function fileChanges(layout: PosixLayout, plan: StorePlan): FileChange[] {
  const changes: FileChange[] = [];
  for (const root of plan.imports) {
    changes.push({ path: ownAnchorPath(layout, root.sha256, storeDir(layout, plan.store)), content: Buffer.from(toPem(root.der)), step: "import" });
  }
  for (const removal of plan.removals) {
    for (const path of removal.files) changes.push({ path, step: "remove" });
  }
  if (layout.distrust.kind === "blocklist") {
    for (const root of plan.distrusts) {
      changes.push({ path: ownAnchorPath(layout, root.sha256, layout.distrust.dir), content: Buffer.from(toPem(root.der)), step: "distrust" });
    }
    // Only the file this tool wrote: an administrator's own blocklist file for the same root stays.
    for (const root of plan.undistrusts) changes.push({ path: ownAnchorPath(layout, root.sha256, layout.distrust.dir), step: "undistrust" });
  }
  changes.push({ path: manifestPathOf(layout), content: Buffer.from(renderManifest(plan.manifest)), step: "manifest" });
  return changes;
}

/** The data one apply is fed: a word per line, then fields that are words, hex or base64 (never a quote, `$` or `\`). */
function applyData(layout: PosixLayout, plan: StorePlan): string[] {
  if (!/^(absent|[0-9a-f]{64})$/.test(plan.basis)) throw new Error(`internal: not a manifest digest: ${JSON.stringify(plan.basis)}`);
  const b64 = (value: string | Buffer) => Buffer.from(value).toString("base64");
  const fingerprint = (sha256: string) => {
    if (!SHA256_HEX.test(sha256)) throw new Error(`internal: not a SHA-256 fingerprint: ${JSON.stringify(sha256)}`);
    return sha256;
  };
  const changes = fileChanges(layout, plan);
  const selection = selectionOf(layout);
  const confDistrusts = selection ? plan.distrusts : [];
  const confUndistrusts = selection ? plan.undistrusts : [];
  const saved = [...changes.map((change) => change.path), manifestBackupPath(manifestPathOf(layout)), ...(selection && confDistrusts.length + confUndistrusts.length > 0 ? [selection.conf] : [])];
  const afterRemoval = plan.removals.length > 0 || plan.distrusts.length > 0;
  return [
    `basis ${plan.basis}`,
    ...saved.map((path) => `save ${b64(path)}`),
    "saved",
    `mkdir import ${b64(storeDir(layout, plan.store))}`,
    ...(layout.distrust.kind === "blocklist" && plan.distrusts.length > 0 ? [`mkdir distrust ${b64(layout.distrust.dir)}`] : []),
    ...changes.map((change) => (change.content === undefined ? `rm ${change.step} ${b64(change.path)}` : `put ${change.step} ${b64(change.path)} ${b64(change.content)}`)),
    ...confDistrusts.map((root) => `deselect ${b64(root.der)}`),
    ...confUndistrusts.map((root) => `reselect ${fingerprint(root.sha256)}`),
    // A manifest-only apply (owners claimed or released) changes no trust: nothing to refresh.
    ...(planChangesStore(plan) ? [`refresh ${afterRemoval ? "yes" : "no"}`] : []),
  ];
}

/** A shell function printing the data block's fields of one kind of line (`trusted_roots_plan basis`). */
export const PLAN_FIELD_FUNCTION = `trusted_roots_plan() { printf '%s\\n' "$TRUSTED_ROOTS_PLAN" | sed -n "s/^$1 //p"; }`;

// Puts back every saved path, newest first: a backup restores the file, an "absent" mark deletes it. Constant text
// the next apply runs from the transaction directory (so an apply cut short by an older version still rolls back
// with its own); the paths are data in "$T/paths", base64, one per line. Where the transaction lists what it was
// about to write ("$T/expected": a path's base64 and the SHA-256 of each version it wrote, or "absent"), a file
// that is neither its saved self nor one of those was changed after the crash by someone else (an OS update
// rewriting ca-certificates.conf, an administrator): it is theirs now and stays, since restoring the backup would
// throw their change away.
export const ROLLBACK_PROGRAM = `T=$1; ok=yes
n=$(($(wc -l < "$T/paths")))
while [ "$n" -gt 0 ]; do
  key=$(sed -n "\${n}p" "$T/paths")
  p=$(printf '%s' "$key" | base64 -d && echo x) || { ok=no; n=$((n - 1)); continue; }
  p=\${p%x}; n=$((n - 1))
  rm -f "$p.trusted-roots-new"
  if [ -e "$T/expected" ]; then
    now=absent; if [ -e "$p" ]; then now=$(sha256sum < "$p" | cut -d' ' -f1); fi
    was=absent; if [ -e "$T/saved.$n" ]; then was=$(sha256sum < "$T/saved.$n" | cut -d' ' -f1); fi
    if [ "$now" != "$was" ] && ! grep -qxF "$key $now" "$T/expected"; then echo "kept $p: changed since this apply wrote it"; continue; fi
  fi
  if [ -e "$T/saved.$n" ]; then cp -p "$T/saved.$n" "$p" || ok=no; elif [ -e "$T/absent.$n" ]; then rm -f "$p" || ok=no; fi
done
[ "$ok" = yes ]`;

// The apply is a transaction under the host lock: every file it may touch is saved first (atomically, so a
// backup is whole or absent), a rollback program beside the backups can put them back, and a "committed" mark
// ends it. An apply interrupted anywhere (a crash, a kill, a power cut) leaves its transaction directory; the
// next apply rolls it back before anything else and then refuses as a conflict, so the caller observes the
// restored store and plans again. `trusted_roots_step N` marks each step: a no-op, where tests inject a crash.
// The program is the same for every plan of a family; the plan travels as data (applyData), like Windows'.
function applyProgram(layout: PosixLayout): string {
  const stateDir = stateDirOf(layout);
  const manifestPath = manifestPathOf(layout);
  const selection = selectionOf(layout);
  return [
    observeFunction(layout),
    ...(selection ? [selectionFunctions(selection)] : []),
    `trusted_roots_step() { :; }
trusted_roots_emit_failure() {
  printf '@@failed %s %s\\n' "$1" "$(printf '%s' "$2" | base64 | tr -d '\\n')"
}
trusted_roots_fail() {
  printf '@@failed %s %s\\n' "$1" "$(tail -c 4000 "$TXN/log" 2>/dev/null | base64 | tr -d '\\n')"
  trusted_roots_rollback
  trusted_roots_observe
  exit 3
}
trusted_roots_refresh() {
  if [ "$1" = yes ]; then ${layout.refreshCommand(true)}; else ${layout.refreshCommand(false)}; fi
}
trusted_roots_rollback() {
  # Checked, not assumed: a restore that failed keeps the backups and the log for the operator.
  if sh "$TXN/rollback" "$TXN" >>"$TXN/log" 2>&1 && trusted_roots_refresh yes >>"$TXN/log" 2>&1; then
    echo '@@rolled-back yes'; rm -rf "$TXN"
  else
    printf '@@rolled-back no %s\\n' "$(printf '%s' "$TXN" | base64 | tr -d '\\n')"
  fi
}
trusted_roots_recover() {
  recovered=no
  for t in ${shQuote(stateDir)}/txn.*; do
    [ -d "$t" ] || continue
    if [ -e "$t/committed" ] || [ ! -e "$t/rollback" ]; then rm -rf "$t"; continue; fi
    sh "$t/rollback" "$t" >>"$t/log" 2>&1 || { trusted_roots_emit_failure recover "an interrupted apply's backups in $t could not be restored; inspect that directory (its log says why) and restore by hand"; exit 3; }
    rm -rf "$t"; recovered=yes
  done
  if [ "$recovered" = yes ]; then
    trusted_roots_refresh yes >/dev/null 2>&1 || { trusted_roots_emit_failure recover 'an interrupted apply was rolled back, but the trust store refresh failed; run it by hand'; exit 3; }
    trusted_roots_emit_failure conflict 'an interrupted apply was found and rolled back (the store is as it was before it); observe again and re-plan'
    echo '@@rolled-back yes'
    trusted_roots_observe
    exit 3
  fi
}
# What this apply is about to make of a file (its path's base64 and the new SHA-256, or absent): the recovery
# rule tells this apply's writes from someone else's by it (ROLLBACK_PROGRAM).
trusted_roots_expect() { printf '%s %s\n' "$1" "$2" >> "$TXN/expected"; }
# A base64 field as the path p; the x keeps a trailing newline, which $(...) would drop.
trusted_roots_path() { p=$(printf '%s' "$1" | base64 -d && echo x) && p=\${p%x}; }
trusted_roots_next_step() { trusted_roots_step $step; step=$((step + 1)); }
${PLAN_FIELD_FUNCTION}
trusted_roots_changes() {
  step=0; n=0
  while read -r kind a b c <&7; do
    case $kind in
      basis|'') ;;
      save)
        # Whole or absent: a backup cut short would otherwise be "restored" over a good file.
        trusted_roots_path "$a" || trusted_roots_fail backup
        if [ -e "$p" ]; then cp -p "$p" "$TXN/saved.$n.new" && mv -f "$TXN/saved.$n.new" "$TXN/saved.$n" || trusted_roots_fail backup
        else : > "$TXN/absent.$n" || trusted_roots_fail backup; fi
        n=$((n + 1)) ;;
      saved) trusted_roots_next_step ;;
      mkdir)
        trusted_roots_path "$b" || trusted_roots_fail "$a"
        mkdir -p "$p" >>"$TXN/log" 2>&1 || trusted_roots_fail "$a" ;;
      rm)
        trusted_roots_path "$b" || trusted_roots_fail "$a"
        trusted_roots_expect "$b" absent || trusted_roots_fail "$a"
        rm -f "$p" >>"$TXN/log" 2>&1 || trusted_roots_fail "$a"
        trusted_roots_next_step ;;
      put)
        trusted_roots_path "$b" || trusted_roots_fail "$a"
        # The manifest it replaces (one this version could read: plan refuses any other) stays as the backup.
        if [ "$a" = manifest ] && [ -f ${shQuote(manifestPath)} ]; then
          { trusted_roots_expect ${b64Literal(manifestBackupPath(manifestPath))} "$(sha256sum < ${shQuote(manifestPath)} | cut -d' ' -f1)" && cp -p ${shQuote(manifestPath)} ${shQuote(manifestBackupPath(manifestPath))}; } >>"$TXN/log" 2>&1 || trusted_roots_fail manifest
        fi
        { printf '%s' "$c" | base64 -d > "$p.trusted-roots-new"; } >>"$TXN/log" 2>&1 && chmod 644 "$p.trusted-roots-new" &&
          trusted_roots_expect "$b" "$(sha256sum < "$p.trusted-roots-new" | cut -d' ' -f1)" && mv -f "$p.trusted-roots-new" "$p" || { rm -f "$p.trusted-roots-new"; trusted_roots_fail "$a"; }
        trusted_roots_next_step ;;${
          selection
            ? `
      deselect) trusted_roots_deselect "$a" || trusted_roots_fail distrust; trusted_roots_next_step ;;
      reselect) trusted_roots_reselect "$a" || trusted_roots_fail undistrust; trusted_roots_next_step ;;`
            : ""
        }
      refresh) trusted_roots_refresh "$a" >>"$TXN/log" 2>&1 || trusted_roots_fail refresh; trusted_roots_next_step ;;
      *) echo "internal: the apply's data has a line this program does not know ($kind)" >>"$TXN/log"; trusted_roots_fail data ;;
    esac
  done 7<<TRUSTED_ROOTS_PLAN_END
$TRUSTED_ROOTS_PLAN
TRUSTED_ROOTS_PLAN_END
}
${beginUnderHostLock(stateDir, stateDir)}
trusted_roots_recover
# Planned against one state of the store; if another run changed it meanwhile, change nothing.
current=absent
if [ -f ${shQuote(manifestPath)} ]; then current=$(sha256sum < ${shQuote(manifestPath)} | cut -d' ' -f1); fi
if [ "$current" != "$(trusted_roots_plan basis)" ]; then
  trusted_roots_emit_failure conflict 'the store changed after it was observed (another run?); observe again and re-plan'
  echo '@@rolled-back yes'
  trusted_roots_observe
  exit 3
fi
TXN=$(mktemp -d ${shQuote(`${stateDir}/txn.XXXXXX`)}) || { echo "@@failed lock"; exit 3; }
: > "$TXN/log"
{ : > "$TXN/expected" && trusted_roots_plan save > "$TXN/paths.new" && mv -f "$TXN/paths.new" "$TXN/paths" && cat > "$TXN/rollback.new" <<'TRUSTED_ROOTS_ROLLBACK'
${ROLLBACK_PROGRAM}
TRUSTED_ROOTS_ROLLBACK
} >>"$TXN/log" 2>&1 && mv -f "$TXN/rollback.new" "$TXN/rollback" || { rm -rf "$TXN"; trusted_roots_emit_failure lock 'could not write the transaction'; exit 3; }
trusted_roots_changes
: > "$TXN/committed"
echo '@@applied'
rm -rf "$TXN"
trusted_roots_observe`,
  ].join("\n");
}

function applyScript(layout: PosixLayout, plan: StorePlan): RemoteScript {
  return { command: SHELL, stdin: wrap(applyProgram(layout), applyData(layout, plan)), elevation: "sudo" };
}

/**
 * The start of every apply program on a Linux host: hang-ups ignored, the begin record, and the host's one lock
 * (every store of the host shares it), with `workDir` made for the apply's transaction.
 */
export function beginUnderHostLock(stateDir: string, workDir: string): string {
  return `trap '' HUP PIPE
echo '@@begin apply'
mkdir -p ${shQuote(workDir)} || { echo "@@failed lock"; exit 3; }
exec 9>>${shQuote(`${stateDir}/lock`)}
if command -v flock >/dev/null 2>&1; then
  flock -w 120 9 || { trusted_roots_emit_failure lock 'another trusted-roots apply held the host lock for 120 s'; exit 3; }
fi`;
}

/** How many `trusted_roots_step` marks an apply of `plan` passes: the crash points tests can choose from. */
export function applySteps(layout: PosixLayout, plan: StorePlan): number {
  return (layout.distrust.kind === "ca-certificates.conf" ? plan.distrusts.length + plan.undistrusts.length : 0) + fileChanges(layout, plan).length + 1 + (planChangesStore(plan) ? 1 : 0);
}

// Debian and Alpine distrust an OS-shipped root by prefixing its line in ca-certificates.conf with "!", and trust
// it again by taking that "!" away; every line naming the file (selected or not) becomes that one line, so a
// second line an update appended cannot undo the choice. awk gets the path as data (-v), never as program text. A
// root the OS does not ship has no line: there is nothing to select (see distrustBy "absence").
// The file is looked for only among those awk can rewrite: the selected ones (a plain line) for a distrust, the
// deselected ones ("!") for a lift. A distrust carries the root's DER (base64), and one awk reads every selected
// file and compares each PEM block's base64, line breaks and blanks left out (any width, CRLF): no process per
// shipped file. Fingerprinting them with `openssl x509` (~40 ms each, ~140 files) cost a distrust of a root the OS
// does not ship 6 CPU-seconds here, the lab's invariant histories a sixth of their time. A lift knows the root by
// fingerprint only (the manifest's entry), and the "!" files are few: openssl fingerprints those.
/** A value as the base64 word the transaction's files name paths by (shell-safe: base64 has no quote). */
const b64Literal = (value: string) => Buffer.from(value).toString("base64");

/** awk: the first selected line of the conf (read as its input) whose file holds a PEM block of base64 `der`. */
const SELECTED_HOLDING_AWK = `/^$/ || /^#/ || /^!/ { next }
{ file = dir "/" $0; inside = 0; found = 0
  while (!found && (getline line < file) > 0) {
    if (line ~ /^-----BEGIN CERTIFICATE-----/) { inside = 1; body = ""; continue }
    if (line ~ /^-----END CERTIFICATE-----/) { found = inside && body == der; inside = 0; continue }
    if (inside) { gsub(/[ \\t\\r]/, "", line); body = body line }
  }
  close(file)
  if (found) { print; exit }
}`;

function selectionFunctions(selection: { conf: string; shippedDir: string }): string {
  const conf = shQuote(selection.conf);
  return `trusted_roots_shipped() {
  if [ "$2" = deselect ]; then
    awk -v dir=${shQuote(selection.shippedDir)} -v der="$1" ${shQuote(SELECTED_HOLDING_AWK)} ${conf} 2>/dev/null
    return
  fi
  cd ${shQuote(selection.shippedDir)} 2>/dev/null || return 0
  sed -n 's/^!//p' ${conf} | while IFS= read -r f; do
    if [ -f "$f" ] && [ "$(openssl x509 -in "$f" -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//; s/://g')" = "$1" ]; then
      printf '%s\\n' "$f"; break
    fi
  done
}
trusted_roots_select() {
  match=$(trusted_roots_shipped "$1" "$2")
  [ -n "$match" ] || return 0
  awk -v rel="$match" -v mode="$2" '($0 == rel || $0 == "!" rel) { if (!done) print (mode == "deselect" ? "!" rel : rel); done = 1; next } { print }' \\
    ${conf} > ${conf}.trusted-roots-new &&
    trusted_roots_expect ${b64Literal(selection.conf)} "$(sha256sum < ${conf}.trusted-roots-new | cut -d' ' -f1)" &&
    mv -f ${conf}.trusted-roots-new ${conf}
}
trusted_roots_deselect() { trusted_roots_select "$1" deselect; }
trusted_roots_reselect() { trusted_roots_select "$1" reselect; }`;
}

function parseObservation(layout: PosixLayout, stdout: string, store: StoreName): ObservedStore {
  const records = parseRecords(stdout);
  if (!records.some((record) => record.kind === "end")) {
    throw new ProtocolError("the observe script's output ended early (no @@end record): the session was cut or the shell is not POSIX sh");
  }
  const warnings: string[] = [];
  const anchors: { path: string; certificates: HeldCertificate[] }[] = [];
  const intermediates: HeldCertificates[] = [];
  const distrusted: HeldCertificates[] = [];
  let bundle: HeldCertificate[] = [];
  let manifestRaw: Buffer | undefined;
  let bootId = "unknown";
  let pendingReboot = false;
  for (const record of records) {
    switch (record.kind) {
      case "boot-id":
        bootId = record.fields[0] ?? "unknown";
        break;
      case "pending-reboot":
        pendingReboot = record.fields[0] === "yes";
        break;
      case "manifest":
        manifestRaw = decodeFieldBytes(record.fields[0]);
        break;
      case "anchor": {
        const path = decodeField(record.fields[0]);
        anchors.push({ path, certificates: readHeldCertificates(decodeFieldBytes(record.fields[1]), path, warnings) });
        break;
      }
      case "intermediate": {
        const path = decodeField(record.fields[0]);
        const certificates = readHeldCertificates(decodeFieldBytes(record.fields[1]), path, warnings);
        intermediates.push({ location: path, certificates, source: isOwnFile(layout, path, certificates) ? "managed" : "local" });
        // Present there is all there is to it: neutral trust, known to the system for chains.
        intermediates.push({ location: path, certificates, source: "effective" });
        break;
      }
      case "distrusted": {
        const path = decodeField(record.fields[0]);
        distrusted.push({ location: path, certificates: readHeldCertificates(decodeFieldBytes(record.fields[1]), path, warnings), source: "local" });
        break;
      }
      case "bundle":
        bundle = readHeldCertificates(decodeFieldBytes(record.fields[0]), layout.bundlePath, warnings);
        break;
    }
  }
  const manifestPath = manifestPathOf(layout);
  const { manifest, problem } = parseManifest(manifestRaw?.toString("utf8") ?? "", { path: manifestPath, backup: manifestBackupPath(manifestPath) });
  // Where roots and intermediates share the anchors directory and the bundle, each store sees its own kind.
  const shared = layout.intermediatesDir === undefined;
  const viewOf = (viewStore: StoreName): HeldCertificates[] => {
    const mine = (certificate: HeldCertificate) => !shared || (certificate.issuer === certificate.subject) === (viewStore === "Root");
    return [
      ...anchors.map(({ path, certificates }) => ({ location: path, certificates: certificates.filter(mine), source: isOwnFile(layout, path, certificates) ? ("managed" as const) : ("local" as const) })),
      { location: layout.bundlePath, certificates: bundle.filter(mine), source: "effective" as const },
    ];
  };
  const other: StoreName = store === "CA" ? "Root" : "CA";
  const roots = mergeObservedRoots(store === "CA" && !shared ? intermediates : viewOf(store), listedFor(manifest, store));
  const neighbours = shared ? mergeObservedRoots(viewOf(other), listedFor(manifest, other)) : undefined;
  return {
    platform: layout.name,
    store,
    bootId,
    pendingReboot,
    roots,
    ...(neighbours ? { neighbours } : {}),
    ...(store === "Root" && neighbours ? { hazards: orphanedIntermediates(roots, neighbours) } : {}),
    // A "!" line is a distrust only while it works: a later line selecting the same file again (an OS update that
    // re-adds it) puts the root back into the bundle, and the next apply must deselect it again.
    distrusted: mergeObservedRoots(distrusted, () => false).filter((root) => layout.distrust.kind === "blocklist" || !roots.some((held) => held.sha256 === root.sha256 && held.trusted)),
    distrustBy: layout.distrust.kind === "blocklist" ? "block" : "absence",
    manifest,
    ...(problem ? { manifestProblem: problem } : {}),
    manifestDigest: manifestDigest(manifestRaw),
    warnings,
  };
}

/**
 * Intermediates in the bundle that no trusted root issued: in a bundle every certificate is an anchor for Go,
 * Java and GnuTLS clients, so such an intermediate keeps trusting what its retired root issued.
 */
function orphanedIntermediates(roots: readonly ObservedRoot[], intermediates: readonly ObservedRoot[]): StoreHazard[] {
  const trustedRoots = roots.filter((root) => root.trusted && root.der);
  return intermediates
    .filter((intermediate) => intermediate.trusted && intermediate.der && !trustedRoots.some((root) => root.subject === intermediate.issuer && issuedBy(intermediate as { der: Buffer }, root as { der: Buffer })))
    .map((intermediate) => ({
      code: "intermediate-without-trusted-root" as const,
      detail:
        `${intermediate.subject} (SHA-256 ${intermediate.sha256}, in ${intermediate.locations.join(", ") || "the bundle"}) is in the bundle, but no trusted root issued it ` +
        `(issuer "${intermediate.issuer}"): Go, Java and GnuTLS clients trust it as an anchor of its own; remove it, or trust its root`,
    }));
}

/** A file this tool wrote: named after the one certificate it holds. An administrator's edit makes it theirs. */
function isOwnFile(layout: PosixLayout, path: string, certificates: readonly HeldCertificate[]): boolean {
  const dir = path.slice(0, path.lastIndexOf("/"));
  return certificates.length === 1 && path === ownAnchorPath(layout, certificates[0].sha256, dir);
}

/**
 * What a POSIX apply program (a family's, or a Java keystore's) reported: the step that failed, whether it rolled
 * back, and the store as it observed it after (read by `observe`).
 */
export function parseApplyOutcome(stdout: string, observe: (stdout: string) => ObservedStore): ApplyOutcome {
  const records = parseRecords(stdout);
  if (!records.some((record) => record.kind === "begin")) {
    throw new ProtocolError("the apply script printed nothing it should (no @@begin record): it did not run");
  }
  const failed = records.find((record) => record.kind === "failed");
  const rolledBack = records.find((record) => record.kind === "rolled-back");
  const kept = rolledBack?.fields[0] === "no" && rolledBack.fields[1] ? `; its backups and log are kept in ${decodeField(rolledBack.fields[1])}` : "";
  return {
    failedStep: failed?.fields[0],
    failureDetail: failed ? decodeField(failed.fields[1]).trim() + kept : undefined,
    rolledBack: rolledBack?.fields[0] === "yes",
    observed: observe(stdout),
  };
}

/** A Linux family's platform, with the layout it was made from (a Java keystore on such a host uses its paths). */
export type PosixPlatform = Platform & { readonly layout: PosixLayout };

/** A Linux trust-store family from its layout: the same scripts and parsers, different paths and commands. */
export function createPosixPlatform(layout: PosixLayout): PosixPlatform {
  return {
    layout,
    name: layout.name,
    stores: ["Root", "CA"],
    observeScript: () => observeScript(layout),
    parseObservation: (stdout, store) => parseObservation(layout, stdout, store),
    applyScript: (plan) => applyScript(layout, plan),
    parseApply: (stdout, store) => parseApplyOutcome(stdout, (output) => parseObservation(layout, output, store)),
    bootIdScript: () => ({ command: "cat /proc/sys/kernel/random/boot_id", stdin: "", elevation: "none" }),
    parseBootId: (stdout) => ({ id: stdout.trim() }),
    rebootedSince: (before, after) => after.id !== before.id,
    // Detached so the SSH command returns before the host goes down.
    rebootScript: (delaySeconds) => ({
      command: SHELL,
      stdin: wrap(
        `  nohup sh -c ${shQuote(`sleep ${Math.max(0, Math.floor(delaySeconds))}; systemctl reboot || shutdown -r now || reboot`)} >/dev/null 2>&1 &\n  echo '@@begin reboot'`,
      ),
      elevation: "sudo",
    }),
  };
}
