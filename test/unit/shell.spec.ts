import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { psQuote, shQuote } from "../../components/platforms";
import { base64Heredoc } from "../../components/platforms/shell";
import { HOSTILE_VALUES } from "../support/hostile";


describe("quoting", () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), "trusted-roots-quote-"));
  });

  for (const shell of ["sh", "bash"]) {
    it(`shQuote hands every hostile value to ${shell} as one literal word, running nothing`, () => {
      for (const value of HOSTILE_VALUES) {
        const printed = execFileSync(shell, ["-c", `printf '%s|' ${shQuote(value)} ${shQuote(value)}`], { cwd: scratch, encoding: "utf8" });
        assert.equal(printed, `${value}|${value}|`, `value ${JSON.stringify(value)}`);
      }
      assert.deepEqual(readdirSync(scratch), [], "no command ran");
    });
  }

  it("shQuote refuses NUL bytes, which no shell can carry", () => {
    assert.throws(() => shQuote("a\0b"), /NUL byte/);
  });

  it("psQuote doubles ASCII and typographic single quotes, the ones PowerShell honours", () => {
    assert.equal(psQuote("it's"), "'it''s'");
    assert.equal(psQuote("Contoso\u2019s"), "'Contoso\u2019\u2019s'");
    assert.equal(psQuote("$(Remove-Item C:\\) `n \"x\""), "'$(Remove-Item C:\\) `n \"x\"'");
    for (const value of HOSTILE_VALUES) {
      const quoted = psQuote(value);
      const inner = quoted.slice(1, -1);
      // Every quote character inside comes in pairs, so the literal never ends early.
      assert.equal(inner.replace(/(['\u2018\u2019\u201A\u201B])\1/g, "").match(/['\u2018\u2019\u201A\u201B]/), null, JSON.stringify(value));
    }
  });

  it("base64Heredoc writes bytes exactly, whatever they are", () => {
    const payload = Buffer.from("line 1\n$(touch pwned)\n'`\"\0\xff end", "latin1");
    const target = join(scratch, "out.bin");
    execFileSync("sh", ["-c", base64Heredoc(payload, shQuote(target))], { cwd: scratch });
    assert.equal(execFileSync("cat", [target]).equals(payload), true);
    assert.equal(existsSync(join(scratch, "pwned")), false);
  });
});
