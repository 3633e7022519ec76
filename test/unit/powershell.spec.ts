import { strict as assert } from "node:assert";
import { Language, Parser, type Node } from "web-tree-sitter";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { plan } from "../../components/plan";
import { PLATFORMS, psQuote, type ObservedStore, type RemoteScript } from "../../components/platforms";
import { restartScript, serviceRestartScript, userCommand } from "../../components/resources/afterChangeScripts";
import { windowsSelftestScript } from "../../components/selftest/windows";
import { throwawayRoot } from "../../components/selftest/throwaway";
import { TestPki } from "../support/pki";
import { hostileValues } from "../support/corpus";
import { HOSTILE_VALUES } from "../support/hostile";

const windows = PLATFORMS.windows;
let parser: Parser;

/** The script inside `powershell ... -EncodedCommand <base64 of UTF-16LE>`, checked to round-trip. */
function decoded(script: RemoteScript): string {
  const match = / -EncodedCommand ([A-Za-z0-9+/=]+)$/.exec(script.command);
  assert.ok(match, `not an encoded PowerShell command: ${script.command.slice(0, 80)}`);
  const text = Buffer.from(match[1], "base64").toString("utf16le");
  assert.equal(Buffer.from(text, "utf16le").toString("base64"), match[1], "the payload round-trips");
  return text;
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

function stringLiterals(text: string): Node[] {
  const literals: Node[] = [];
  const visit = (node: Node) => {
    if (node.type === "string_literal") literals.push(node);
    else for (const child of node.children) if (child) visit(child);
  };
  visit(parser.parse(text)!.rootNode);
  return literals;
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

  const emptyStore = (store: "Root" | "CA" | "Disallowed"): ObservedStore => ({
    platform: "windows", store, bootId: "b", pendingReboot: false, roots: [], distrusted: [], manifest: { version: 1, roots: [], distrusted: [] }, manifestDigest: "absent",
    warnings: [],
  });

  it("the grammar does find errors (the check can fail)", () => {
    assert.notDeepEqual(syntaxErrors("function f( { Write-Output 'x'"), []);
    assert.notDeepEqual(syntaxErrors("Restart-Service -Name 'W3SVC"), []);
  });

  it("observe, boot id and every apply (0, 1 and many certificates, hostile subjects) parse without error", () => {
    const scripts: RemoteScript[] = [windows.bootIdScript(), restartScript("windows", "iis"), userCommand("windows", "iisreset /status")];
    for (const store of ["Root", "CA", "Disallowed"] as const) {
      scripts.push(windows.observeScript(store));
      for (const count of [0, 1, roots.length]) {
        scripts.push(windows.applyScript(plan({ roots: roots.slice(0, count), distrusted: [] }, emptyStore(store), "exact")));
      }
    }
    for (const script of scripts) assert.deepEqual(syntaxErrors(decoded(script)), []);
  });

  it("no certificate data is in the script text: hostile subjects travel in the JSON on stdin", () => {
    const none = decoded(windows.applyScript(plan({ roots: [] }, emptyStore("Root"), "exact")));
    const many = windows.applyScript(plan({ roots }, emptyStore("Root"), "exact"));
    assert.equal(decoded(many), none, "the script is the same whatever the certificates");
    const payload = JSON.parse(many.stdin) as { imports: { thumbprint: string }[]; manifest: string };
    assert.deepEqual(payload.imports.map((item) => item.thumbprint).sort(), roots.map((root) => root.sha1).sort());
    assert.deepEqual(JSON.parse(payload.manifest).roots.map((entry: { subject: string }) => entry.subject).sort(), roots.map((root) => root.subject).sort());
  });

  it("a hostile service name only ever appears as one single-quoted literal, and changes nothing else", () => {
    const benign = decoded(serviceRestartScript("windows", "W3SVC"));
    const [benignLiteral] = stringLiterals(benign).filter((node) => node.text === "'W3SVC'");
    const skeleton = (text: string, literal: Node) => text.slice(0, literal.startIndex) + "<NAME>" + text.slice(literal.endIndex);
    for (const name of hostileValues().filter((value) => value.trim() && !value.startsWith("-") && !value.includes("\0"))) {
      const text = decoded(serviceRestartScript("windows", name));
      assert.deepEqual(syntaxErrors(text), [], JSON.stringify(name));
      const literals = stringLiterals(text).filter((node) => node.text === psQuote(name));
      assert.equal(literals.length, 1, `${JSON.stringify(name)} is one literal`);
      assert.ok(literals[0].text.startsWith("'"), "single-quoted (verbatim): no expansion of $, ` or $()");
      assert.equal(skeleton(text, literals[0]), skeleton(benign, benignLiteral), JSON.stringify(name));
    }
  });

  it("the selftest script parses, and its certificate arrives on stdin", () => {
    const root = throwawayRoot();
    const script = windowsSelftestScript(root.der);
    const text = decoded(script);
    assert.deepEqual(syntaxErrors(text), []);
    assert.ok(text.includes("$storeName = 'TrustedRootsSelftest'"));
    assert.doesNotMatch(text, /X509Store\('(Root|CA|Disallowed)'/, "never opens a real trust store");
    assert.equal(Buffer.from(script.stdin, "base64").equals(root.der), true);
  });
});
