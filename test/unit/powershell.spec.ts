import { strict as assert } from "node:assert";
import { Language, Parser, type Node } from "web-tree-sitter";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { plan } from "../../components/plan";
import { PLATFORMS, type ObservedStore, type RemoteScript, type StoreName } from "../../components/platforms";
import { restartScript, serviceRestartScript, userCommand } from "../../components/resources/afterChangeScripts";
import { windowsScratchPlatform, windowsSelftestCleanupScript } from "../../components/selftest/windows";
import { BOOTSTRAP_COMMAND, BOOTSTRAP_SCRIPT } from "../../components/platforms/windowsTransport";
import { readWire } from "../support/windowsWire";
import { everyWindowsCommand } from "../support/windowsCommands";
import { TestPki } from "../support/pki";
import { hostileValues } from "../support/corpus";
import { HOSTILE_VALUES } from "../support/hostile";

const windows = PLATFORMS.windows;
let parser: Parser;

/** The script a Windows command carries on stdin (its command line is always the bootstrap). */
function decoded(script: RemoteScript): string {
  return readWire(script).script;
}

function syntaxErrors(text: string): string[] {
  const tree = parser.parse(text)!;
  const errors: string[] = [];
  const visit = (node: Node) => {
    if (node.isError || node.isMissing) errors.push(`${node.isMissing ? "missing" : "error"} at ${node.startPosition.row + 1}:${node.startPosition.column + 1}: ${JSON.stringify(node.text.slice(0, 60))}`);
    for (const child of node.children) if (child) visit(child);
  };
  visit(tree.rootNode);
  return errors;
}


/**
 * Commands a script may call: cmdlets compiled into a binary module, which no execution policy can block. A
 * Group Policy execution policy (MachinePolicy Restricted or AllSigned) blocks script modules whatever
 * -ExecutionPolicy says, and Windows PowerShell 5.1 ships some cmdlets as functions of a script module
 * (Microsoft.PowerShell.Utility.psm1: Get-FileHash, New-TemporaryFile, New-Guid, Format-Hex,
 * Import-PowerShellDataFile, ConvertFrom-SddlString): those, and anything not named here, are refused.
 */
const COMPILED_CMDLETS: ReadonlyMap<string, string> = new Map([
  ["ConvertFrom-Json", "Microsoft.PowerShell.Commands.Utility.dll"],
  ["ConvertTo-Json", "Microsoft.PowerShell.Commands.Utility.dll"],
  ["New-Object", "Microsoft.PowerShell.Commands.Utility.dll"],
  ["Get-ChildItem", "Microsoft.PowerShell.Commands.Management.dll"],
  ["Get-Item", "Microsoft.PowerShell.Commands.Management.dll"],
  ["Get-ItemProperty", "Microsoft.PowerShell.Commands.Management.dll"],
  ["Join-Path", "Microsoft.PowerShell.Commands.Management.dll"],
  ["Remove-Item", "Microsoft.PowerShell.Commands.Management.dll"],
  ["Restart-Service", "Microsoft.PowerShell.Commands.Management.dll"],
  ["Test-Path", "Microsoft.PowerShell.Commands.Management.dll"],
  ["Get-CimInstance", "Microsoft.Management.Infrastructure.CimCmdlets.dll"],
]);

/** Every command a script calls that it does not define itself, and every native stderr merge (2>&1). */
function outsideCommands(text: string): string[] {
  const tree = parser.parse(text)!;
  const defined = new Set<string>();
  const called: Node[] = [];
  const merges: Node[] = [];
  const visit = (node: Node) => {
    if (node.type === "function_name") defined.add(node.text.toLowerCase());
    if (node.type === "command_name") called.push(node);
    if (node.type === "merging_redirection_operator") merges.push(node);
    for (const child of node.children) if (child) visit(child);
  };
  visit(tree.rootNode);
  const allowed = new Set([...COMPILED_CMDLETS.keys()].map((name) => name.toLowerCase()));
  return [
    ...called.filter((node) => !defined.has(node.text.toLowerCase()) && !allowed.has(node.text.toLowerCase())).map((node) => `${node.text} (line ${node.startPosition.row + 1})`),
    ...merges.map((node) => `${node.text} (line ${node.startPosition.row + 1}): a native command's stderr merged under $ErrorActionPreference 'Stop' is a terminating error on 5.1`),
  ];
}

describe("PowerShell scripts under a real PowerShell grammar (tree-sitter-powershell)", function () {
  this.timeout(60_000);
  const pki = new TestPki();
  let roots: Certificate[];

  before(async () => {
    await Parser.init();
    parser = new Parser();
    parser.setLanguage(await Language.load(require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm")));
    roots = HOSTILE_VALUES.filter((value) => value && !value.includes("\n") && !value.startsWith("-") && value !== "*").map(
      (value, index) => parseCertificates(pki.root(`ps-${index}`, `/CN=${value.replace(/[/\\+]/g, "\\$&")}`, { key: "ec256" }).pem)[0],
    );
  });

  const emptyStore = (store: StoreName): ObservedStore => ({
    platform: "windows", store, bootId: "b", pendingReboot: false, roots: [], distrusted: [], manifest: { version: 1, roots: [], distrusted: [] }, manifestDigest: "absent",
    warnings: [],
  });

  it("the grammar does find errors (the check can fail)", () => {
    assert.notDeepEqual(syntaxErrors("function f( { Write-Output 'x'"), []);
    assert.notDeepEqual(syntaxErrors("Restart-Service -Name 'W3SVC"), []);
  });

  it("observe, boot id and every apply (0, 1 and many certificates, hostile subjects) parse without error", () => {
    const scripts: RemoteScript[] = [windows.bootIdScript(), windows.rebootScript(5), restartScript("windows", "iis"), userCommand("windows", "iisreset /status")];
    for (const store of ["Root", "CA", "Disallowed", "ClientAuthIssuer"] as const) {
      scripts.push(windows.observeScript(store));
      for (const count of [0, 1, roots.length]) {
        scripts.push(windows.applyScript(plan({ roots: roots.slice(0, count), distrusted: [] }, emptyStore(store), "exact")));
      }
    }
    for (const script of scripts) assert.deepEqual(syntaxErrors(decoded(script)), []);
    for (const [kind, script] of everyWindowsCommand(roots)) assert.deepEqual(syntaxErrors(decoded(script)), [], kind);
  });

  it("every script calls only compiled cmdlets, .NET and its own functions: nothing an execution policy can block, no native stderr merge", () => {
    // The check can fail: the walker finds a script-module function, a native program and a merge.
    assert.deepEqual(outsideCommands("function F { Get-FileHash -LiteralPath $p }\nF\n$o = & shutdown.exe /r 2>&1"), [
      "Get-FileHash (line 1)",
      "shutdown.exe (line 3)",
      "2>&1 (line 3): a native command's stderr merged under $ErrorActionPreference 'Stop' is a terminating error on 5.1",
    ]);
    const found: string[] = [];
    for (const [kind, script] of everyWindowsCommand(roots.slice(0, 2))) {
      const { script: text } = readWire(script);
      found.push(...outsideCommands(text).map((finding) => `${kind}: ${finding}`));
    }
    found.push(...outsideCommands(BOOTSTRAP_SCRIPT).map((finding) => `bootstrap: ${finding}`));
    // The restart preset travels as the user command's data: it is ours, so it is held to the same rule.
    found.push(...outsideCommands(readWire(restartScript("windows", "iis")).data).map((finding) => `iis preset: ${finding}`));
    assert.deepEqual(found, []);
  });

  it("no certificate data is in the script text: hostile subjects travel in the JSON on stdin", () => {
    const none = decoded(windows.applyScript(plan({ roots: [] }, emptyStore("Root"), "exact")));
    const many = windows.applyScript(plan({ roots }, emptyStore("Root"), "exact"));
    assert.equal(decoded(many), none, "the script is the same whatever the certificates");
    const payload = JSON.parse(readWire(many).data) as { imports: { thumbprint: string }[]; manifest: string };
    assert.deepEqual(payload.imports.map((item) => item.thumbprint).sort(), roots.map((root) => root.sha1).sort());
    assert.deepEqual(JSON.parse(Buffer.from(payload.manifest, "base64").toString("utf8")).roots.map((entry: { subject: string }) => entry.subject).sort(), roots.map((root) => root.subject).sort());
  });

  it("the bootstrap parses, is the whole command line, round-trips through -EncodedCommand, and holds no data", () => {
    assert.deepEqual(syntaxErrors(BOOTSTRAP_SCRIPT), []);
    const encoded = / -EncodedCommand ([A-Za-z0-9+/=]+)$/.exec(BOOTSTRAP_COMMAND)![1];
    assert.equal(Buffer.from(encoded, "base64").toString("utf16le"), BOOTSTRAP_SCRIPT);
    assert.match(BOOTSTRAP_SCRIPT, /\$input/, "reads stdin through $input, as Ansible's bootstrap does");
    // The console host feeds stdin to $input only for the command that names it; scripts must not.
    for (const script of [windows.observeScript("Root"), windows.applyScript(plan({ roots }, emptyStore("Root"), "exact")), userCommand("windows", "Get-Date")]) {
      assert.doesNotMatch(decoded(script), /\$input\b/i);
    }
  });

  it("a hostile service name is data on stdin: the script is the same for every name", () => {
    const benign = readWire(serviceRestartScript("windows", "W3SVC"));
    for (const name of hostileValues().filter((value) => value.trim() && !value.startsWith("-") && !value.includes("\0"))) {
      const wire = readWire(serviceRestartScript("windows", name));
      assert.equal(wire.script, benign.script, JSON.stringify(name));
      assert.equal(wire.data, name, "the name arrives byte for byte");
    }
    assert.match(benign.script, /Restart-Service -Name \$Data -Force/);
  });

  it("the selftest runs the production scripts against scratch stores only", () => {
    const storePlan = plan({ roots }, emptyStore("Root"), "exact");
    for (const [scratch, real] of [
      [windowsScratchPlatform.observeScript("Root"), windows.observeScript("Root")],
      [windowsScratchPlatform.applyScript(storePlan), windows.applyScript(storePlan)],
    ]) {
      const [scratchWire, realWire] = [readWire(scratch), readWire(real)];
      assert.equal(scratchWire.script, realWire.script, "the very same script");
      const data = JSON.parse(scratchWire.data) as { store: string; disallowedStore: string; manifestDir: string };
      assert.deepEqual([data.store, data.disallowedStore, data.manifestDir], ["TrustedRootsSelftest", "TrustedRootsSelftestDisallowed", "trusted-roots\\selftest"]);
    }
    const cleanup = readWire(windowsSelftestCleanupScript());
    assert.deepEqual(syntaxErrors(cleanup.script), []);
    assert.deepEqual(JSON.parse(cleanup.data).stores, ["TrustedRootsSelftest", "TrustedRootsSelftestDisallowed"]);
    assert.doesNotMatch(cleanup.script + cleanup.data, /'(Root|CA|Disallowed|ClientAuthIssuer)'|"(Root|CA|Disallowed|ClientAuthIssuer)"/);
  });
});
