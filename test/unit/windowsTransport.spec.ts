import { strict as assert } from "node:assert";
import { parseCertificates, type Certificate } from "../../components/certificates";
import { plan } from "../../components/plan";
import { PLATFORMS } from "../../components/platforms";
import { decodeClixml, describeStderr } from "../../components/platforms/clixml";
import { CMD_EXE_MAX_CHARACTERS, COMMAND_LINE_BUDGET, encodePowerShell, shellLines, windowsCommandFailure } from "../../components/platforms/windowsTransport";
import { userCommand } from "../../components/resources/afterChangeScripts";
import { TestPki } from "../support/pki";
import { emptyWindowsStore as emptyStore, everyWindowsCommand } from "../support/windowsCommands";
import { decodeStdinLines, field, readWire, throughCodePage } from "../support/windowsWire";

const windows = PLATFORMS.windows;

describe("Windows transport: every command fits cmd.exe, every byte survives, every result is a record", function () {
  this.timeout(120_000);
  const pki = new TestPki();
  let roots: Certificate[];

  before(() => {
    // 500 distinct roots are slow to make with openssl; 50 real ones, repeated under distinct thumbprints, carry the same bytes.
    const made = Array.from({ length: 50 }, (_, index) => parseCertificates(pki.root(`budget-${index}`, `/CN=Zürich Root CA ${index} 認証局`, { key: "ec256" }).pem)[0]);
    roots = Array.from({ length: 500 }, (_, index) => ({ ...made[index % 50], sha1: `${index}`.padStart(40, "0"), sha256: `${index}`.padStart(64, "0") }));
  });

  const everyCommand = () => everyWindowsCommand(roots, [0, 1, 50, 500]);

  it("every command line, with its cmd.exe or powershell.exe wrapper, stays within 8,191 characters less a 1,024 margin", () => {
    const lengths: string[] = [];
    for (const [kind, script] of everyCommand()) {
      const lines = shellLines(script.command);
      assert.ok(lines.cmd.length <= COMMAND_LINE_BUDGET, `${kind}: ${lines.cmd.length} characters under cmd.exe`);
      assert.ok(lines.powershell.length <= COMMAND_LINE_BUDGET, `${kind}: ${lines.powershell.length} characters under powershell.exe`);
      assert.doesNotMatch(script.command, /"/, `${kind}: no quote for Win32-OpenSSH 7.7 to mangle under DefaultShell powershell`);
      lengths.push(`${kind}: ${lines.cmd.length}`);
    }
    console.log(`      longest command line with its cmd.exe wrapper: ${Math.max(...everyCommand().map(([, script]) => shellLines(script.command).cmd.length))} of ${CMD_EXE_MAX_CHARACTERS}`);
    // The check can fail: the apply script itself as -EncodedCommand (the old way) does not fit.
    const applyScriptText = readWire(windows.applyScript(plan({ roots: [] }, emptyStore("Root"), "exact"))).script;
    assert.ok(`powershell -EncodedCommand ${encodePowerShell(applyScriptText)}`.length > CMD_EXE_MAX_CHARACTERS);
  });

  it("stdin is ASCII only, and survives a console's OEM decoding (cp437, cp850, cp932, cp1252) byte for byte", () => {
    const subject = "CN=Zürich Root CA 認証局 Ελληνικά 🔒";
    const command = `Write-Output '${subject}'`;
    const scripts = [
      userCommand("windows", command),
      windows.applyScript(plan({ roots: roots.slice(0, 3), distrusted: [] }, emptyStore("Root"), "exact")),
    ];
    for (const script of scripts) {
      const sent = Buffer.from(script.stdin, "utf8");
      assert.ok(sent.every((byte) => byte < 0x80), "only ASCII on the wire");
      const expected = readWire(script);
      for (const codePage of ["CP437", "CP850", "CP932", "CP1252"]) {
        const received = decodeStdinLines(throughCodePage(sent, codePage));
        assert.equal(received.script, expected.script, codePage);
        assert.equal(Buffer.compare(Buffer.from(received.data, "utf8"), Buffer.from(expected.data, "utf8")), 0, `${codePage}: data byte for byte`);
      }
    }
    assert.equal(readWire(scripts[0]).data, command);
    const manifest = JSON.parse(Buffer.from(JSON.parse(readWire(scripts[1]).data).manifest, "base64").toString("utf8")) as { roots: { subject: string }[] };
    assert.equal(manifest.roots[0].subject, roots[0].subject);
    assert.ok([...roots[0].subject].some((char) => char.charCodeAt(0) > 0x7f), "a non-ASCII subject made the trip");
    // The check can fail: raw UTF-8 through cp437 becomes mojibake ("Z├╝rich"), the bug this design removes.
    assert.match(throughCodePage(Buffer.from("CN=Zürich", "utf8"), "CP437"), /Z├╝rich/);
  });

  describe("results come from records, never from the exit code", () => {
    const output = (stdout: string, stderr = "", exitCode = 0) => ({ stdout, stderr, exitCode });

    it("done is success whatever the exit code; a missing result is a failure even with exit code 0", () => {
      assert.equal(windowsCommandFailure(output("@@begin command\r\nsome output\r\n@@done\r\n", "", 1)), undefined);
      assert.match(windowsCommandFailure(output("@@begin command\r\n", "", 0))!, /ended without reporting a result/);
    });

    it("each user-command failure is named: a native command anywhere, exit N, an error, invalid PowerShell", () => {
      const cases: [string, RegExp][] = [
        ["native", /step "native" failed: a native command exited with 5 \(line 1: cmd \/c exit 5\)/],
        ["exit", /step "exit" failed: the command exited with 3/],
        ["error", /step "error" failed: Cannot find a process/],
        ["parse", /step "parse" failed: the command is not valid PowerShell/],
      ];
      const details: Record<string, string> = {
        native: "a native command exited with 5 (line 1: cmd /c exit 5)",
        exit: "the command exited with 3 (line 2: exit 3)",
        error: "Cannot find a process with the name \"w3wp\". (line 1: Stop-Process -Name w3wp)",
        parse: "the command is not valid PowerShell: Missing closing '}' (line 1)",
      };
      for (const [step, pattern] of cases) {
        assert.match(windowsCommandFailure(output(`@@begin command\r\n@@failed ${step} ${field(details[step])}\r\n`, "", 0))!, pattern);
      }
    });

    it("a statement that runs a native program is judged by its exit code, its stderr kept as text; other statements stop on any error", () => {
      const runner = readWire(userCommand("windows", "git fetch")).script;
      assert.equal(readWire(userCommand("windows", "git fetch")).data, "git fetch", "the command is data");
      const detect = /function Test-TrustedRootsRunsNative[\s\S]*?\n\}/.exec(runner)![0];
      assert.match(detect, /\$ExecutionContext\.InvokeCommand\.GetCommand\(\$name, 'Application'\)/, "a native program is what resolves as an Application");
      assert.match(detect, /\(\$null -eq \$name\) -or/, "a dynamic call (& $path) counts as native");
      assert.match(runner, /\$trustedRootsPreference = \$ErrorActionPreference\n/);
      assert.match(runner, /if \(\$trustedRootsNative\) \{ \$ErrorActionPreference = 'Continue' \}\n {4}\. \(\[ScriptBlock\]::Create/);
      assert.match(runner, /finally \{ if \(\$trustedRootsNative\) \{ \$ErrorActionPreference = \$trustedRootsPreference \} \}/, "the next statement has the preference back");
      assert.match(runner, /if \(\$LASTEXITCODE -ne 0\) \{ Write-Failure 'native'/);
      assert.match(runner, /FullyQualifiedErrorId -notlike 'NativeCommandError\*'\)\) \{ Write-Failure 'error'/, "stderr lines (NativeCommandError, NativeCommandErrorMessage) are not failures; other errors are");
      assert.doesNotMatch(runner, /2>&1/);
    });

    it("a scheduled shutdown and a refused reboot are distinct errors", () => {
      const scheduled = windowsCommandFailure(output(`@@begin reboot\r\n@@failed shutdown-scheduled ${field("a shutdown is already scheduled on this host (shutdown.exe exit 1190); let it run, or cancel it with shutdown /a and deploy again")}\r\n`));
      assert.match(scheduled!, /shutdown-scheduled.*1190.*shutdown \/a/);
      const refused = windowsCommandFailure(output(`@@begin reboot\r\n@@failed reboot ${field("shutdown.exe exited with 5: Access is denied.(5)")}\r\n`));
      assert.match(refused!, /step "reboot" failed: shutdown\.exe exited with 5/);
    });

    it("the language mode, the bootstrap and cmd.exe refusals", () => {
      assert.match(windowsCommandFailure(output("@@refused language-mode ConstrainedLanguage\r\n"))!, /ConstrainedLanguage mode .*AppLocker or WDAC/);
      assert.match(windowsCommandFailure(output(`@@failed bootstrap ${field("bad base64")}\r\n`))!, /bootstrap could not read its script from stdin \(bad base64\)/);
      assert.match(windowsCommandFailure(output("", "The command line is too long.\r\n", 1))!, /cmd\.exe refused the command line \(it accepts at most 8,191 characters; nothing ran\)/);
      assert.match(windowsCommandFailure(output("", "", 255))!, /did not start the script.*\(no stderr\)/);
    });
  });

  describe("CLIXML on stderr (Windows PowerShell 5.1 with -EncodedCommand)", () => {
    // The samples are the shapes Ansible's unit tests hold (test/units/plugins/shell/test_powershell.py).
    it("decodes error lines, _xHHHH_ escapes (surrogate pairs too), entities; drops progress records", () => {
      const sample =
        '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj>' +
        '<S S="Error">fake : The term \'fake\' is not recognized as the name of a cmdlet. Check _x000D__x000A_</S><S S="Error">the spelling &amp; &lt;path&gt; _xD83D__xDD12_ Zürich_x000D__x000A_</S></Objs>';
      const text = decodeClixml(sample);
      assert.equal(text, "fake : The term 'fake' is not recognized as the name of a cmdlet. Check \nthe spelling & <path> 🔒 Zürich");
      assert.doesNotMatch(text, /Preparing modules/);
    });

    it("two CLIXML blocks and plain text around them; plain stderr passes through", () => {
      const two = '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">first_x000A_</S></Objs>#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">second</S></Objs>';
      assert.equal(decodeClixml(two), "first\nsecond");
      assert.equal(decodeClixml("sudo: a password is required\n"), "sudo: a password is required\n");
      assert.equal(describeStderr(""), "(no stderr)");
    });
  });
});
