import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The bad-input corpus under test/corpus (see its JSON files' "about"). */
export const CORPUS_DIR = resolve(__dirname, "../../../test/corpus");

export interface CertificateCase {
  file: string;
  stage: "parse" | "roots" | "check";
  error: string;
}

export interface ConfigCase {
  config: unknown;
  key: string;
}

const read = <T>(file: string): T => JSON.parse(readFileSync(join(CORPUS_DIR, file), "utf8")) as T;

export const certificateCases = () => read<{ cases: CertificateCase[] }>("certificates.json").cases;
export const configCases = () => read<{ cases: ConfigCase[] }>("config.json").cases;
/** Hostile values, plus one 4000-character value. */
export const hostileValues = () => [...read<{ values: string[] }>("values.json").values, "long ".repeat(800)];
