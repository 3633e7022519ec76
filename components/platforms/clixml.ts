/**
 * Windows PowerShell 5.1 writes its error stream to a redirected stderr as CLIXML when the command came from
 * `-EncodedCommand`: a `#< CLIXML` line, then `<Objs ...>` blocks where each error line is `<S S="Error">`
 * with control characters escaped as `_xHHHH_` (UTF-16 code units). Progress records (`<Obj S="progress">`)
 * arrive there too, even on success. Decoded the way Ansible decodes it; stderr that is not CLIXML is
 * returned as it is.
 */
export function decodeClixml(stderr: string): string {
  if (!stderr.includes("#< CLIXML") && !/<Objs [^>]*schemas\.microsoft\.com\/powershell/.test(stderr)) return stderr;
  const plainLines = stderr
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "" && line.trim() !== "#< CLIXML" && !line.includes("<Objs") && !line.includes("</Objs>"));
  const errors = [...stderr.matchAll(/<S S="Error">([\s\S]*?)<\/S>/g)].map((match) => unescapeClixml(match[1]));
  return [...plainLines, errors.join("")].join("\n").replace(/\r\n/g, "\n").trim();
}

const XML_ENTITIES: Record<string, string> = { "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&apos;": "'" };

function unescapeClixml(text: string): string {
  const units = text
    .replace(/&(lt|gt|amp|quot|apos);/g, (entity) => XML_ENTITIES[entity])
    .replace(/&#x([0-9a-fA-F]+);/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#([0-9]+);/g, (_, decimal: string) => String.fromCodePoint(parseInt(decimal, 10)));
  // `_xHHHH_` is one UTF-16 code unit: a surrogate pair arrives as two and joins again in the JS string.
  return units.replace(/_x([0-9a-fA-F]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** What a refused command line looks like: cmd.exe's message (English; other languages print their own). */
const CMD_LINE_TOO_LONG = /The command line is too long/i;

/**
 * The part of a command's stderr worth showing in an error: CLIXML decoded, and causes this tool knows
 * named first.
 */
export function describeStderr(stderr: string, limit = 500): string {
  const readable = decodeClixml(stderr).trim();
  if (CMD_LINE_TOO_LONG.test(readable)) {
    return `cmd.exe refused the command line (it accepts at most 8,191 characters; nothing ran): ${readable.slice(-limit)}`;
  }
  return readable === "" ? "(no stderr)" : readable.slice(-limit);
}
