/** Values an attacker (or an unlucky CA admin) could put in a subject, a file name or a service name. */
export const HOSTILE_VALUES = [
  "$(touch pwned-subst)",
  "`touch pwned-backtick`",
  "'; touch pwned-quote; echo '",
  '"; touch pwned-dquote; echo "',
  "a\nb; touch pwned-newline",
  "x; touch pwned-semicolon",
  "x && touch pwned-and || touch pwned-or",
  "x | touch pwned-pipe",
  "$HOME ${PATH} $((1+1)) \\ \\' \\\\",
  "-rf --no-preserve-root",
  "*",
  "~root",
  "CN=Contoso\u2019s Root \u2018CA\u2019 \u201Aquoted\u201B",
  "unicode: Fő tanúsítvány 認証局 🔒",
  "",
];
