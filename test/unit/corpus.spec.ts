import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CertificateInputError, parseCertificates, requireRoots, type Certificate } from "../../components/certificates";
import { fleetArgsFromConfig, FleetConfigError, parseFleetConfig } from "../../components/config/load";
import { psQuote, shQuote } from "../../components/platforms";
import { checkRoots, toRootInputs, trustStoreInputsSchema } from "../../components/resources/trustStoreCore";
import { throwawayRoot } from "../../components/selftest/throwaway";
import { certificateCases, configCases, CORPUS_DIR, hostileValues } from "../support/corpus";
import { TestPki } from "../support/pki";

const storeInputs = (roots: Record<string, ReturnType<typeof toRootInputs>[string]>) =>
  trustStoreInputsSchema.parse({ providerVersion: "1", connection: { host: "h", privateKey: "k" }, platform: "debian", roots });

/** Nothing is applied: the config loader refuses the input before any resource or session exists. */
function refusedByLoader(certificateFile: string): string[] {
  const config = parseFleetConfig({
    servers: [{ name: "web01", host: "10.0.0.1", platform: "debian", hostKey: "SHA256:" + "A".repeat(43), roots: ["bad"] }],
    rootSets: { bad: { files: [certificateFile] } },
  });
  try {
    fleetArgsFromConfig(config, { privateKey: "k" }, (file) => readFileSync(join(CORPUS_DIR, "certificates", file)));
  } catch (error) {
    if (error instanceof FleetConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("bad-input corpus (test/corpus)", function () {
  this.timeout(120_000);

  describe("certificate inputs: a clear error naming the input, nothing applied", () => {
    for (const testCase of certificateCases()) {
      it(`${testCase.file} (${testCase.stage})`, () => {
        const content = readFileSync(join(CORPUS_DIR, "certificates", testCase.file));
        const name = `corpus/${testCase.file}`;
        const expected = new RegExp(testCase.error);
        if (testCase.stage === "parse") {
          assert.throws(() => parseCertificates(content, { name }), (error: unknown) => error instanceof CertificateInputError && error.message.startsWith(`${name}: `) && expected.test(error.message));
          assert.ok(refusedByLoader(testCase.file).some((problem) => problem.includes("rootSets.bad.files[0]") && expected.test(problem)), "refused before anything is declared");
        } else if (testCase.stage === "roots") {
          const certificates = parseCertificates(content, { name });
          assert.throws(() => requireRoots(certificates, name), (error: unknown) => error instanceof CertificateInputError && error.message.startsWith(`${name}: `) && expected.test(error.message));
          assert.ok(refusedByLoader(testCase.file).some((problem) => expected.test(problem)));
        } else {
          const [first, second] = parseCertificates(content, { name });
          const [key] = Object.keys(toRootInputs([first]));
          const failures = checkRoots(storeInputs({ [key]: toRootInputs([first])[key], [`${key} again`]: toRootInputs([second])[key] }));
          assert.ok(failures.some((failure) => failure.property === `roots["${key} again"]` && expected.test(failure.reason)), JSON.stringify(failures));
        }
      });
    }

    it("a private key next to a certificate", () => {
      const pki = new TestPki();
      const root = pki.root("with-key", "/CN=With Key", { key: "ec256" });
      const bundle = root.pem + readFileSync(root.keyPath, "utf8");
      assert.throws(() => parseCertificates(bundle, { name: "corpus/with-key.pem" }), /^CertificateInputError: corpus\/with-key\.pem: block 2 \(PRIVATE KEY\) at line \d+ is a private key/);
    });

    it("expired and not-yet-valid roots fail the provider's check, naming the property", () => {
      const now = new Date();
      const expired = throwawayRoot(now, { commonName: "Expired Root", notBefore: new Date(now.getTime() - 10 * 864e5), notAfter: new Date(now.getTime() - 864e5) });
      const future = throwawayRoot(now, { commonName: "Future Root", notBefore: new Date(now.getTime() + 864e5), notAfter: new Date(now.getTime() + 10 * 864e5) });
      const reasons = checkRoots(storeInputs(toRootInputs([expired, future]))).map((failure) => `${failure.property}: ${failure.reason}`);
      assert.ok(reasons.some((reason) => reason.startsWith(`roots["${expired.sha256}"]: `) && reason.includes("CN=Expired Root") && / expired on/.test(reason)), reasons.join("\n"));
      assert.ok(reasons.some((reason) => reason.startsWith(`roots["${future.sha256}"]: `) && reason.includes("CN=Future Root") && / is not valid until/.test(reason)), reasons.join("\n"));
    });

    it("a huge input is refused before parsing", () => {
      const huge = Buffer.alloc(40 * 1024 * 1024, 0x41);
      assert.throws(() => parseCertificates(huge, { name: "corpus/huge.pem" }), /corpus\/huge\.pem: is 40\.0 MB; certificate bundles are at most a few MB/);
    });

    it("thousands of roots for one server are refused as a mistake", () => {
      const one: Certificate = throwawayRoot();
      const many = Object.fromEntries(Array.from({ length: 3000 }, (_, index) => [`Root ${index}`, toRootInputs([one])[one.sha256]]));
      const failures = checkRoots(storeInputs(many));
      assert.deepEqual(failures.map((failure) => failure.property), ["roots"]);
      assert.match(failures[0].reason, /declares 3000 roots; more than 500/);
    });
  });

  describe("hostile values reach sh and bash as one literal word, or are refused when they cannot", () => {
    const scratch = mkdtempSync(join(tmpdir(), "trusted-roots-corpus-"));
    for (const value of hostileValues()) {
      it(JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value), () => {
        if (value.includes("\0")) {
          assert.throws(() => shQuote(value), /NUL byte/);
          assert.throws(() => psQuote(value), /NUL byte/);
          return;
        }
        for (const shell of ["sh", "bash"]) {
          const sentinel = `/tmp/pwned-${randomBytes(4).toString("hex")}`;
          const printed = execFileSync(shell, ["-c", `printf '%s' ${shQuote(value.replace(/\/tmp\/pwned-[a-z]+/g, sentinel))}`], { cwd: scratch, encoding: "utf8" });
          assert.equal(printed, value.replace(/\/tmp\/pwned-[a-z]+/g, sentinel), JSON.stringify(value));
          assert.throws(() => readFileSync(sentinel), /ENOENT/, `${JSON.stringify(value)} ran a command under ${shell}`);
        }
        assert.deepEqual(readdirSync(scratch), []);
      });
    }
  });

  describe("configuration", () => {
    for (const testCase of configCases()) {
      it(`names ${testCase.key}`, () => {
        assert.throws(
          () => parseFleetConfig(testCase.config),
          (error: unknown) => error instanceof FleetConfigError && error.problems.some((problem) => problem.startsWith(`${testCase.key}: `) && problem.length > testCase.key.length + 5),
        );
      });
    }
  });

  it("the corpus holds at least 50 cases", () => {
    const total = certificateCases().length + hostileValues().length + configCases().length;
    assert.ok(total >= 50, `only ${total}`);
  });
});
