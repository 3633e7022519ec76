/**
 * The one way a value reaches a POSIX shell: a single-quoted literal. Inside single quotes nothing is
 * special except the quote itself, which is closed, escaped and reopened.
 */
export function shQuote(value: string): string {
  if (value.includes("\0")) throw new Error(`cannot pass a value containing a NUL byte to a shell: ${JSON.stringify(value)}`);
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

// PowerShell treats the typographic single quotes as quote characters too, so each is doubled like '.
const POWERSHELL_SINGLE_QUOTES = /['\u2018\u2019\u201A\u201B]/g;

/** The one way a value reaches PowerShell: a single-quoted (verbatim) string literal. */
export function psQuote(value: string): string {
  if (value.includes("\0")) throw new Error(`cannot pass a value containing a NUL byte to PowerShell: ${JSON.stringify(value)}`);
  return `'${value.replace(POWERSHELL_SINGLE_QUOTES, (quote) => quote + quote)}'`;
}

/** A heredoc whose body is base64 (cannot contain the terminator) decoded into `target`. */
export function base64Heredoc(payload: Buffer | string, target: string): string {
  const body = Buffer.from(payload).toString("base64").replace(/(.{76})/g, "$1\n").replace(/\n$/, "");
  return `base64 -d > ${target} <<'TRUSTED_ROOTS_B64'\n${body}\nTRUSTED_ROOTS_B64`;
}
