// user:password@ (or user@) after a scheme: what a URL may carry that no message may show.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** Whether a URL carries a login (user:password@ or user@). */
export function hasUrlCredentials(url: string): boolean {
  return new RegExp(URL_CREDENTIALS.source, "i").test(url);
}

/** `text` with the login of every URL in it replaced by `***@`: for every message that may name a URL. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, "$1***@");
}
