import type { Certificate } from "../../components/certificates";
import { plan } from "../../components/plan";
import { PLATFORMS, type ObservedStore, type RemoteScript, type StoreName } from "../../components/platforms";
import { restartScript, serviceRestartScript, userCommand } from "../../components/resources/afterChangeScripts";
import { windowsScratchPlatform, windowsSelftestCleanupScript } from "../../components/selftest/windows";
import { createWindowsJavaKeystorePlatform } from "../../components/platforms/windowsJava";

const windows = PLATFORMS.windows;

/** A Windows store observed empty, with no manifest: what a first apply is planned against. */
export const emptyWindowsStore = (store: StoreName): ObservedStore => ({
  platform: "windows", store, bootId: "b", pendingReboot: false, roots: [], distrusted: [], manifest: { version: 2, roots: [], distrusted: [] }, manifestDigest: "absent", warnings: [],
});

/** Every kind of command the tool sends to a Windows server, by name, applies with 0, 1 and more of `roots`. */
export function everyWindowsCommand(roots: readonly Certificate[], counts: readonly number[] = [0, 1, roots.length]): [string, RemoteScript][] {
  const commands: [string, RemoteScript][] = [];
  for (const store of ["Root", "CA", "Disallowed", "ClientAuthIssuer"] as const) {
    commands.push([`observe ${store}`, windows.observeScript(store)]);
    for (const count of counts) {
      commands.push([`apply ${store} with ${count} roots`, windows.applyScript(plan({ roots: roots.slice(0, count), distrusted: [] }, emptyWindowsStore(store), "exact"))]);
    }
  }
  commands.push(["boot id", windows.bootIdScript()], ["reboot", windows.rebootScript(600)]);
  commands.push(["restart preset iis", restartScript("windows", "iis")], ["restart service W3SVC", serviceRestartScript("windows", "W3SVC")]);
  commands.push(["user command of 100,000 characters", userCommand("windows", `Write-Output '${"x".repeat(100_000)}'`)]);
  commands.push(["selftest observe", windowsScratchPlatform.observeScript("Root")], ["selftest apply", windowsScratchPlatform.applyScript(plan({ roots: roots.slice(0, 1) }, emptyWindowsStore("Root"), "exact"))]);
  commands.push(["selftest cleanup", windowsSelftestCleanupScript()]);
  // A Java truststore, not made yet: planned as empty, so an apply renders without a host.
  const java = createWindowsJavaKeystorePlatform({ location: { kind: "file", path: "C:\\Tomcat\\conf\\client-cas.p12" }, password: "secret", label: "java" });
  const emptyTruststore: ObservedStore = {
    ...emptyWindowsStore("Java"), manifestDigest: `absent;acl:${"0".repeat(16)}`, distrustBy: "absence",
    keystore: { path: "C:\\Tomcat\\conf\\client-cas.p12", realPath: "C:\\Tomcat\\conf\\client-cas.p12", type: "PKCS12", digest: "absent", entries: [] },
  };
  commands.push(["observe Java", java.observeScript("Java")]);
  for (const count of counts) commands.push([`apply Java with ${count} roots`, java.applyScript(plan({ roots: roots.slice(0, count) }, emptyTruststore, "exact"))]);
  return commands;
}
