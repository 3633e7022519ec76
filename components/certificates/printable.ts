// C0 and C1 controls, and Unicode's format characters (\p{Cf}: bidirectional overrides and isolates, zero-width
// joiners and spaces, the BOM, invisible operators), plus the line and paragraph separators. A certificate's
// subject is chosen by whoever made it: these would reorder or hide text in a table, a message or a preview.
const INVISIBLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/**
 * `text` with every control and invisible formatting character written as `\u{XXXX}`; visible characters of
 * every script pass unchanged. (A subject that spells such an escape in visible characters stays as it is:
 * misleading at worst, never hidden.)
 */
export function printable(text: string): string {
  return text.replace(INVISIBLE, (character) => `\\u{${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}}`);
}
