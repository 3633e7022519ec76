import { createHash } from "node:crypto";
import { z } from "zod";
import { aliasFor, isOwnAlias, KEYSTORE_TYPES, KeystoreError, readKeystore, rewriteKeystore, type KeystoreType } from "../keystores";
import { manifestBackupPath, manifestDigest, parseManifest, renderManifest } from "./manifest";
import { listedFor, mergeObservedRoots, readHeldCertificates, type HeldCertificates } from "./observation";
import { beginUnderHostLock, hostFactLines, parseApplyOutcome, PLAN_FIELD_FUNCTION, ROLLBACK_PROGRAM, SHELL, stateDirOf, wrap, type PosixLayout, type PosixPlatform } from "./posix";
import { shQuote } from "./shell";
import { decodeField, decodeFieldBytes, parseRecords, ProtocolError } from "./protocol";
import type { Manifest, ObservedKeystore, ObservedRoot, ObservedStore, Platform, PlatformName, RemoteScript, StorePlan } from "./types";

// A Java keystore on a Linux host as a trust store. The host only finds the file, hands its bytes over and puts
// new bytes in place under the host lock; reading and rewriting the keystore happen here (keystores/), with the
// password, so the password never reaches a command line and the JVM is started once per apply, for the check.

const POSIX_PATH = /^\//;
// A drive path without the characters Windows forbids in names: the scripts may then quote it safely.
const isWindowsPath = (path: string) => /^[A-Za-z]:\\[^"<>|?*]*$/.test(path) && [...path].every((character) => character >= " ");
const absolute = (what: string) =>
  z.string().refine((path) => POSIX_PATH.test(path) || isWindowsPath(path), `${what} must be an absolute path: /opt/... on Linux, C:\\... on Windows (without " < > | ? *)`);

/**
 * Which keystore: the default JVM's cacerts (`java` on PATH), a given JDK's own cacerts (a bundled or upgraded
 * JDK), or an application truststore at a path (made when absent, as `type`).
 */
export const javaKeystoreLocationSchema = z
  .strictObject({
    kind: z.enum(["jvm", "jdk", "file"]).meta({ description: "jvm: the cacerts of JAVA_HOME (Windows: the machine's) else of the java on PATH; jdk: the cacerts of the JDK at javaHome; file: an application truststore at path." }),
    javaHome: absolute("javaHome").optional().meta({ description: "jdk: the JDK's home, e.g. /opt/app/jdk (its lib/security/cacerts)." }),
    path: absolute("path").optional().meta({ description: "file: the truststore's path (made when absent)." }),
    type: z.enum(KEYSTORE_TYPES).optional().meta({ description: "file: the format of a truststore made where none is (default PKCS12); an existing one's is read from the file." }),
  })
  .superRefine((keystore, context) => {
    const needs = (property: "javaHome" | "path", kind: string, example: string) => {
      if (keystore.kind === kind && !keystore[property]) context.addIssue({ code: "custom", path: [property], message: `a ${kind} keystore needs ${property}, ${example}` });
      if (keystore.kind !== kind && keystore[property]) context.addIssue({ code: "custom", path: [property], message: `${property} is for kind ${kind} only` });
    };
    needs("javaHome", "jdk", "the JDK's home (e.g. /opt/app/jdk)");
    needs("path", "file", "the truststore's absolute path (e.g. /opt/tomcat/conf/client-cas.p12)");
    if (keystore.kind !== "file" && keystore.type) context.addIssue({ code: "custom", path: ["type"], message: "type is for kind file only (a cacerts' format is read from it)" });
  })
  .meta({ description: "A Java keystore: the JVM's cacerts, a JDK's own cacerts, or an application truststore." });
export type JavaKeystoreLocation = z.infer<typeof javaKeystoreLocationSchema>;

/** The path a declaration names: a JDK's home, a truststore's file, or none (the default JVM). */
export function declaredPathOf(location: JavaKeystoreLocation): string | undefined {
  return location.kind === "jdk" ? location.javaHome : location.kind === "file" ? location.path : undefined;
}

/** Why a keystore declared for a server of this platform cannot be kept there (a path of the other kind). */
export function keystoreLocationProblem(platform: PlatformName, location: JavaKeystoreLocation): string | undefined {
  const path = declaredPathOf(location);
  if (path === undefined) return undefined;
  const property = location.kind === "jdk" ? "javaHome" : "path";
  if (platform === "windows" && !isWindowsPath(path)) return `${property} ${path} is not a Windows path: a Windows server's keystore is named like C:\\app\\conf\\client-cas.p12`;
  if (platform !== "windows" && !POSIX_PATH.test(path)) return `${property} ${path} is not a path on a ${platform} server: it starts with /`;
  return undefined;
}

/** What names a declared keystore: the same declaration always gives the same key, whatever the host holds. */
export function keystoreKey(location: JavaKeystoreLocation): string {
  // Windows paths name the same file in any case.
  const path = (value = "") => (isWindowsPath(value) ? value.toLowerCase() : value);
  const declared = location.kind === "jvm" ? "jvm" : location.kind === "jdk" ? `jdk:${path(location.javaHome)}` : `file:${path(location.path)}`;
  return createHash("sha256").update(declared).digest("hex").slice(0, 32);
}

/** The suffix of a keystore's store resource (`<server>-java-<8 hex>`): named after the declaration, so order-free. */
export function javaStoreSuffix(location: JavaKeystoreLocation): string {
  return `java-${keystoreKey(location).slice(0, 8)}`;
}

export interface JavaKeystoreTarget {
  location: JavaKeystoreLocation;
  password: string;
  /** Names the store in messages: the server and the keystore. */
  label: string;
}

/** The JDK's default password for cacerts. */
export const CACERTS_PASSWORD = "changeit";
const DEFAULT_TRUSTSTORE_TYPE: KeystoreType = "PKCS12";
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Each declared keystore has its own manifest, named after what was declared (not the file found, which a JDK
 * upgrade moves): the holds survive the upgrade and the next apply puts the roots into the new JDK's cacerts.
 */
export function javaManifestPath(layout: PosixLayout, location: JavaKeystoreLocation): string {
  return `${stateDirOf(layout)}/java/${keystoreKey(location)}.json`;
}

/** Where a JVM's cacerts is derived from the OS store by a hook that rebuilds it: roots added only here do not last. */
const OS_DERIVED = [
  { path: "/etc/ssl/certs/java/cacerts", hook: "/etc/ca-certificates/update.d/jks-keystore", by: "ca-certificates-java (update-ca-certificates)" },
  { path: "/etc/pki/ca-trust/extracted/java/cacerts", hook: "/usr/bin/update-ca-trust", by: "update-ca-trust" },
];

// Finds the keystore and keytool from data (kind, target), never from script text; sets ks, real, keytool.
const LOCATE_FUNCTION = `${PLAN_FIELD_FUNCTION}
trusted_roots_locate() {
  kind=$(trusted_roots_plan kind)
  target=$(trusted_roots_plan target | base64 -d && echo x); target=\${target%x}
  home=; keytool=
  case $kind in
    file) ks=$target ;;
    jdk) home=$target ;;
    jvm)
      # The session's JAVA_HOME where one reaches it (sudo's env_reset drops it), else the java on PATH.
      if [ -n "\${JAVA_HOME:-}" ] && [ -x "\${JAVA_HOME}/bin/java" ]; then home=\${JAVA_HOME%/}
      else j=$(command -v java 2>/dev/null) && j=$(readlink -f "$j") && home=\${j%/bin/java}; fi ;;
  esac
  if [ "$kind" != file ]; then
    if [ -z "$home" ]; then located='no JAVA_HOME and no java on PATH: install a JRE, or declare the JDK (kind jdk, javaHome)'; return 1; fi
    if [ -f "$home/lib/security/cacerts" ]; then ks=$home/lib/security/cacerts
    elif [ -f "$home/jre/lib/security/cacerts" ]; then ks=$home/jre/lib/security/cacerts
    else located="no cacerts under $home (lib/security or jre/lib/security): is it a JDK's home?"; return 1; fi
    if [ -x "$home/bin/keytool" ]; then keytool=$home/bin/keytool; fi
  fi
  if [ -z "$keytool" ]; then keytool=$(command -v keytool 2>/dev/null) || keytool=; fi
  real=$(readlink -f "$ks" 2>/dev/null) || real=$ks
  [ -n "$real" ] || real=$ks
}`;

function b64Command(value: string): string {
  return `$(printf '%s' "${value}" | base64 | tr -d '\\n')`;
}

function javaObserveFunction(layout: PosixLayout, manifestPath: string): string {
  const derived = OS_DERIVED.map(({ path, hook }) => `{ [ "$real" = ${shQuote(path)} ] && [ -e ${shQuote(hook)} ]; }`).join(" || ");
  return `${LOCATE_FUNCTION}
trusted_roots_observe() {
${hostFactLines(layout)}
  if [ -f ${shQuote(manifestPath)} ]; then printf '@@manifest %s\\n' "$(base64 < ${shQuote(manifestPath)} | tr -d '\\n')"; fi
  if trusted_roots_locate; then
    if [ -f "$real" ]; then printf '@@keystore %s %s %s\\n' "${b64Command("$ks")}" "${b64Command("$real")}" "$(base64 < "$real" | tr -d '\\n')"
    else printf '@@keystore-absent %s %s\\n' "${b64Command("$ks")}" "${b64Command("$real")}"; fi
    if [ -n "$keytool" ]; then printf '@@keytool %s\\n' "${b64Command("$keytool")}"; fi
    if ${derived}; then echo '@@os-derived yes'; fi
  else
    printf '@@locate-failed %s\\n' "${b64Command("$located")}"
  fi
  echo '@@end'
}`;
}

function observeScript(layout: PosixLayout, target: JavaKeystoreTarget): RemoteScript {
  const manifestPath = javaManifestPath(layout, target.location);
  const program = `${javaObserveFunction(layout, manifestPath)}\n  echo '@@begin observe'\n  trusted_roots_observe`;
  return { command: SHELL, stdin: wrap(program, locationData(target.location)), elevation: "sudo" };
}

function locationData(location: JavaKeystoreLocation): string[] {
  return [`kind ${location.kind}`, `target ${Buffer.from(declaredPathOf(location) ?? "").toString("base64")}`];
}

/** The store's location for an entry: the keystore and the alias, one certificate each. */
const entryLocation = (keystorePath: string, alias: string) => `${keystorePath}#${alias}`;

function parseObservation(layout: PosixLayout, target: JavaKeystoreTarget, stdout: string): ObservedStore {
  const records = parseRecords(stdout);
  if (!records.some((record) => record.kind === "end")) {
    throw new ProtocolError("the observe script's output ended early (no @@end record): the session was cut or the shell is not POSIX sh");
  }
  const field = (kind: string, index = 0) => records.find((record) => record.kind === kind)?.fields[index];
  const locateFailed = field("locate-failed");
  if (locateFailed !== undefined) throw new KeystoreError(`${target.label}: ${decodeField(locateFailed)}`);
  const manifestPath = javaManifestPath(layout, target.location);
  const manifestRaw = field("manifest") === undefined ? undefined : decodeFieldBytes(field("manifest"));
  const { manifest, problem } = parseManifest(manifestRaw?.toString("utf8") ?? "", { path: manifestPath, backup: manifestBackupPath(manifestPath) });
  const keystore = observedKeystore(target, records);
  const warnings: string[] = [];
  if (field("keytool") === undefined) warnings.push(`${target.label}: keytool was not found on the host (install a JRE, e.g. openjdk-17-jre-headless): an apply checks the rewritten keystore with it and refuses without it`);
  if (field("os-derived") === "yes") {
    const derived = OS_DERIVED.find((candidate) => candidate.path === keystore.realPath);
    warnings.push(
      `${keystore.realPath} is derived from the OS trust store by ${derived?.by ?? "the OS"}: a root declared for the server's Root store reaches it on the next refresh, ` +
        "while a root kept only here is dropped whenever that tool rebuilds the file (the scan then shows it missing); declare such roots for the Root store",
    );
  }
  return {
    platform: layout.name,
    store: "Java",
    bootId: field("boot-id") ?? "unknown",
    pendingReboot: field("pending-reboot") === "yes",
    roots: keystoreRoots(target, keystore, manifest, warnings),
    // A keystore distrusts a root only by not holding it.
    distrustBy: "absence",
    distrusted: [],
    manifest,
    ...(problem ? { manifestProblem: problem } : {}),
    manifestDigest: manifestDigest(manifestRaw),
    warnings,
    keystore,
  };
}

function observedKeystore(target: JavaKeystoreTarget, records: ReturnType<typeof parseRecords>): ObservedKeystore {
  const present = records.find((record) => record.kind === "keystore");
  if (present) return keystoreFromBytes(target, decodeField(present.fields[0]), decodeField(present.fields[1]), decodeFieldBytes(present.fields[2]));
  const absent = records.find((record) => record.kind === "keystore-absent");
  if (!absent) throw new ProtocolError("the observe script reported neither the keystore nor its absence");
  return keystoreFromBytes(target, decodeField(absent.fields[0]), decodeField(absent.fields[1]), undefined);
}

/** The keystore a host handed over (its bytes, or undefined where none is), read with the password. */
export function keystoreFromBytes(target: JavaKeystoreTarget, path: string, realPath: string, bytes: Buffer | undefined): ObservedKeystore {
  if (bytes) {
    const { type, entries } = readKeystore(bytes, target.password, `${target.label} (${realPath})`);
    return { path, realPath, type, digest: createHash("sha256").update(bytes).digest("hex"), entries };
  }
  if (target.location.kind !== "file") throw new KeystoreError(`${target.label}: the JDK's cacerts ${path} is missing`);
  return { path, realPath, type: target.location.type ?? DEFAULT_TRUSTSTORE_TYPE, digest: "absent", entries: [] };
}

/**
 * The roots a keystore holds as the planner sees them: entries under this tool's alias are managed, the rest
 * the JDK's (cacerts: never removed) or an administrator's (a truststore: removed only by purgeUnmanaged).
 */
export function keystoreRoots(target: JavaKeystoreTarget, keystore: ObservedKeystore, manifest: Manifest, warnings: string[]): ObservedRoot[] {
  const shipped = target.location.kind === "file" ? "local" : "system";
  const held: HeldCertificates[] = keystore.entries.flatMap((entry) => {
    if (entry.kind !== "trusted" || !entry.certificate) return [];
    const certificates = readHeldCertificates(entry.certificate, `${keystore.realPath} alias ${entry.alias}`, warnings);
    const source = certificates.length === 1 && isOwnAlias(entry.alias, certificates[0].sha256) ? "managed" : shipped;
    const location = entryLocation(keystore.realPath, entry.alias);
    // Every trusted entry is in force: a keystore has no separate effective set.
    return [{ location, certificates, source }, { location, certificates, source: "effective" }];
  });
  return mergeObservedRoots(held, listedFor(manifest, "Java"));
}

/** The keystore a plan was made against, and the bytes that replace it: without the removed aliases, with each import under its own alias. */
export function rewrittenKeystore(target: JavaKeystoreTarget, plan: StorePlan): { keystore: ObservedKeystore; bytes: Buffer; digest: string } {
  const keystore = plan.keystore;
  if (!keystore) throw new Error("internal: a Java store's plan carries the keystore it was made against");
  if (!(keystore.digest === "absent" || SHA256_HEX.test(keystore.digest))) throw new Error("internal: not a digest");
  const prefix = `${keystore.realPath}#`;
  const remove = plan.removals.flatMap((removal) => removal.files.filter((location) => location.startsWith(prefix)).map((location) => location.slice(prefix.length)));
  const add = plan.imports.map((root) => ({ alias: aliasFor(root.der, root.commonName), certificate: root.der }));
  const bytes = rewriteKeystore({ type: keystore.type, entries: keystore.entries }, { remove, add }, target.password, `${target.label} (${keystore.realPath})`, new Date());
  return { keystore, bytes, digest: createHash("sha256").update(bytes).digest("hex") };
}

function applyData(target: JavaKeystoreTarget, plan: StorePlan): string[] {
  if (!/^(absent|[0-9a-f]{64})$/.test(plan.basis)) throw new Error("internal: not a digest");
  const b64 = (value: string | Buffer) => Buffer.from(value).toString("base64");
  const rewritten = rewrittenKeystore(target, plan);
  return [
    ...locationData(target.location),
    `basis ${plan.basis}`,
    `keystore-basis ${rewritten.keystore.digest}`,
    `type ${rewritten.keystore.type}`,
    `password ${b64(target.password)}`,
    `keystore ${b64(rewritten.bytes)}`,
    `keystore-digest ${rewritten.digest}`,
    `manifest ${b64(renderManifest(plan.manifest))}`,
  ];
}

// Under the host lock, as a transaction like the POSIX stores' (the same rollback program), in a directory of
// its own so each kind recovers only its own: the keystore's target file and the manifest are saved, the new
// keystore is written beside the file (a copy first, so it keeps the file's owner and mode) and renamed over it,
// and the JVM's keytool must list it with the password before the transaction commits; otherwise both go back.
function applyProgram(layout: PosixLayout, manifestPath: string): string {
  const stateDir = stateDirOf(layout);
  const javaState = `${stateDir}/java`;
  const manifest = shQuote(manifestPath);
  const manifestNew = shQuote(`${manifestPath}.trusted-roots-new`);
  return `${javaObserveFunction(layout, manifestPath)}
trusted_roots_step() { :; }
trusted_roots_emit_failure() {
  printf '@@failed %s %s\\n' "$1" "$(printf '%s' "$2" | base64 | tr -d '\\n')"
}
trusted_roots_refuse() {
  trusted_roots_emit_failure "$1" "$2"; echo '@@rolled-back yes'; trusted_roots_observe; exit 3
}
trusted_roots_fail() {
  printf '@@failed %s %s\\n' "$1" "$(tail -c 4000 "$TXN/log" 2>/dev/null | base64 | tr -d '\\n')"
  rm -f "$TXN/storepass"
  if sh "$TXN/rollback" "$TXN" >>"$TXN/log" 2>&1; then echo '@@rolled-back yes'; rm -rf "$TXN"
  else printf '@@rolled-back no %s\\n' "$(printf '%s' "$TXN" | base64 | tr -d '\\n')"; fi
  trusted_roots_observe
  exit 3
}
# An interrupted apply is undone only while the keystore is still what it left (its new bytes, or the original):
# a keystore someone changed since (an administrator's keytool, an upgrade) is theirs, and a rollback to the
# backup would throw their change away. Then, if this apply's write had happened, its entries are in that file and
# the manifest it planned goes with them; if not, nothing of it is anywhere and both files stay as they are.
trusted_roots_recover() {
  for t in ${shQuote(javaState)}/txn.*; do
    [ -d "$t" ] || continue
    if [ -e "$t/committed" ] || [ ! -e "$t/rollback" ]; then rm -rf "$t"; continue; fi
    rm -f "$t/storepass"
    ks=$(sed -n 1p "$t/paths" | base64 -d && echo x); ks=\${ks%x}
    now=absent
    if [ -f "$ks" ]; then now=$(sha256sum < "$ks" | cut -d' ' -f1); fi
    if [ "$now" = "$(cat "$t/new" 2>/dev/null)" ] || [ "$now" = "$(cat "$t/original" 2>/dev/null)" ]; then
      sh "$t/rollback" "$t" >>"$t/log" 2>&1 || { trusted_roots_emit_failure recover "an interrupted apply's backups in $t could not be restored; inspect that directory (its log says why) and restore by hand"; exit 3; }
    elif [ -e "$t/moved" ]; then
      { cp "$t/manifest.planned" ${manifestNew} && chmod 644 ${manifestNew} && mv -f ${manifestNew} ${manifest}; } >>"$t/log" 2>&1 || { trusted_roots_emit_failure recover "an interrupted apply's manifest in $t could not be put in place; inspect that directory (its log says why)"; exit 3; }
    fi
    rm -f "$ks.trusted-roots-new"
    rm -rf "$t"
    trusted_roots_refuse conflict 'an interrupted apply was found and settled (undone, or kept where the keystore changed since); observe again and re-plan'
  done
}
${beginUnderHostLock(stateDir, javaState)}
trusted_roots_recover
trusted_roots_locate || trusted_roots_refuse prerequisite "$located"
[ -n "$keytool" ] || trusted_roots_refuse prerequisite 'keytool was not found (install a JRE, e.g. openjdk-17-jre-headless, or declare the JDK with kind jdk and javaHome); nothing was changed'
current=absent
if [ -f ${manifest} ]; then current=$(sha256sum < ${manifest} | cut -d' ' -f1); fi
held=absent
if [ -f "$real" ]; then held=$(sha256sum < "$real" | cut -d' ' -f1); fi
if [ "$current" != "$(trusted_roots_plan basis)" ] || [ "$held" != "$(trusted_roots_plan keystore-basis)" ]; then
  trusted_roots_refuse conflict 'the keystore or its manifest changed after it was observed (another run, a JDK update?); observe again and re-plan'
fi
TXN=$(mktemp -d ${shQuote(`${javaState}/txn.XXXXXX`)}) || { echo "@@failed lock"; exit 3; }
: > "$TXN/log"
{ printf '%s\\n%s\\n' "$(printf '%s' "$real" | base64 | tr -d '\\n')" "${Buffer.from(manifestPath).toString("base64")}" > "$TXN/paths" &&
  if [ -e "$real" ]; then cp -p "$real" "$TXN/saved.0"; else : > "$TXN/absent.0"; fi &&
  if [ -e ${manifest} ]; then cp -p ${manifest} "$TXN/saved.1"; else : > "$TXN/absent.1"; fi &&
  trusted_roots_plan keystore-basis > "$TXN/original" && trusted_roots_plan keystore-digest > "$TXN/new" &&
  trusted_roots_plan manifest | base64 -d > "$TXN/manifest.planned" &&
  cat > "$TXN/rollback.new" <<'TRUSTED_ROOTS_ROLLBACK'
${ROLLBACK_PROGRAM}
TRUSTED_ROOTS_ROLLBACK
} >>"$TXN/log" 2>&1 && mv -f "$TXN/rollback.new" "$TXN/rollback" || { rm -rf "$TXN"; trusted_roots_emit_failure lock 'could not write the transaction'; exit 3; }
trusted_roots_step 0
( umask 077 && trusted_roots_plan password | base64 -d > "$TXN/storepass" ) || trusted_roots_fail keystore
new="$real.trusted-roots-new"
{ if [ -e "$real" ]; then cp -p "$real" "$new"; else mkdir -p "$(dirname "$real")" && : > "$new" && chmod 644 "$new"; fi &&
  trusted_roots_plan keystore | base64 -d > "$new" && mv -f "$new" "$real" && : > "$TXN/moved"; } >>"$TXN/log" 2>&1 || { rm -f "$new"; trusted_roots_fail keystore; }
trusted_roots_step 1
if [ -f ${manifest} ]; then cp -p ${manifest} ${shQuote(manifestBackupPath(manifestPath))} >>"$TXN/log" 2>&1 || trusted_roots_fail manifest; fi
{ trusted_roots_plan manifest | base64 -d > ${manifestNew} && chmod 644 ${manifestNew} && mv -f ${manifestNew} ${manifest}; } >>"$TXN/log" 2>&1 || trusted_roots_fail manifest
trusted_roots_step 2
# The JVM's own reading: the file is a keystore of its type that the password opens.
"$keytool" -list -keystore "$real" -storetype "$(trusted_roots_plan type)" -storepass:file "$TXN/storepass" >>"$TXN/log" 2>&1 || trusted_roots_fail verify
rm -f "$TXN/storepass"
: > "$TXN/committed"
echo '@@applied'
rm -rf "$TXN"
trusted_roots_observe`;
}

function applyScript(layout: PosixLayout, target: JavaKeystoreTarget, plan: StorePlan): RemoteScript {
  return { command: SHELL, stdin: wrap(applyProgram(layout, javaManifestPath(layout, target.location)), applyData(target, plan)), elevation: "sudo" };
}

/** A Java keystore on a host of a Linux family: the Platform the store engine drives, for one keystore. */
export function createJavaKeystorePlatform(family: PosixPlatform, target: JavaKeystoreTarget): Platform {
  const layout = family.layout;
  return {
    ...family,
    stores: ["Java"],
    observeScript: () => observeScript(layout, target),
    parseObservation: (stdout) => parseObservation(layout, target, stdout),
    applyScript: (plan) => applyScript(layout, target, plan),
    parseApply: (stdout) => parseApplyOutcome(stdout, (output) => parseObservation(layout, target, output)),
  };
}
