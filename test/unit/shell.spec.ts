import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { psQuote, shQuote } from "../../components/platforms";
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
});
