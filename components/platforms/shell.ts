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
