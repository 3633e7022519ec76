import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { parseCertificates } from "../../components/certificates";
import { describeLab, Lab } from "../support/lab";
import { TestPki } from "../support/pki";

const REPO = resolve(__dirname, "../../..");

/** The README's code blocks of a language, in order. */
function readmeBlocks(language: string): string[] {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  return [...readme.matchAll(new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g"))].map((match) => match[1]);
}

describeLab("README examples", function () {
  this.timeout(120_000);
  let lab: Lab;
  before(async () => {
    lab = await Lab.start(1);
  });
  after(async () => {
    await lab?.stop();
  });

  it("the library example converges a real host as written, pointed at a lab host", async () => {
    const [example] = readmeBlocks("ts");
    assert.ok(example?.includes("converge("), "the README has the library example");
    const scratch = mkdtempSync(join(tmpdir(), "trusted-roots-readme-"));
    const pki = new TestPki(scratch);
    const root = pki.root("contoso-roots", "/O=Contoso/CN=Contoso Root CA G2");
    pki.pkcs7("contoso-roots", [root], "DER");
    writeFileSync(join(scratch, "deploy_ed25519"), lab.clientKey, { mode: 0o600 });
    const host = lab.hosts[0];
    // Only the example's placeholders change: the host, its key, the key file and the user (root in the lab).
    const adapted = example
      .replace('"web01.contoso.test"', JSON.stringify(host.address))
      .replace(/"ssh-ed25519 AAAA[^"]*"/, JSON.stringify(host.hostKey))
      .replace('"/secure/deploy_ed25519"', JSON.stringify(join(scratch, "deploy_ed25519")))
      .replace('user: "deploy"', 'user: "root"')
      .replace('from "pulumi-trusted-roots"', `from ${JSON.stringify(join(REPO, "dist/components"))}`);
    assert.notEqual(adapted, example);
    // Imports stay at the top; the rest runs in an async function, as top-level await would in an ES module.
    const lines = adapted.split("\n");
    const imports = lines.filter((line) => line.startsWith("import "));
    const body = lines.filter((line) => !line.startsWith("import "));
    const source = `${imports.join("\n")}\n(async () => {\n${body.join("\n")}\n})().catch((error) => { console.error(error); process.exit(1); });`;
    const program = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    writeFileSync(join(scratch, "example.js"), program);
    const { stdout } = await promisify(execFile)("node", [join(scratch, "example.js")], { cwd: scratch });
    assert.equal(stdout.trim(), `true [ '${parseCertificates(root.pem)[0].subject}' ]`);
  });
});
