import type { PlatformName, RemoteScript } from "../platforms";
import { psQuote, shQuote } from "../platforms/shell";
import { powershellCommand } from "../platforms/windows";

export const RESTART_PRESETS = ["iis", "nginx", "apache"] as const;
export type RestartPreset = (typeof RESTART_PRESETS)[number];

const POSIX_PRESETS: Record<Exclude<RestartPreset, "iis">, string> = {
  // Test the configuration first: a reload with a broken config would take the site down.
  nginx: "nginx -t && { systemctl reload nginx || nginx -s reload; }",
  apache: "apachectl -t && { systemctl reload apache2 || systemctl reload httpd || apachectl graceful; }",
};

/**
 * A command the operator wrote (a preset's or their own), run as a whole script by the host's shell.
 * It is the user's program by design; no value is ever spliced into it.
 */
export function userCommand(platform: PlatformName, command: string): RemoteScript {
  if (platform === "windows") return { command: powershellCommand(`$ErrorActionPreference = 'Stop'\n${command}\n`), stdin: "", elevation: "none" };
  return { command: "/bin/sh -s", stdin: `${command}\n`, elevation: "sudo" };
}

export function restartScript(platform: PlatformName, preset: RestartPreset): RemoteScript {
  if (preset === "iis") {
    if (platform !== "windows") throw new Error(`the "iis" restart preset is for Windows servers, not ${platform}`);
    return userCommand(platform, "Restart-Service -Name W3SVC -Force");
  }
  if (platform === "windows") throw new Error(`the "${preset}" restart preset is for Linux servers; use "iis" or a custom command on Windows`);
  return userCommand(platform, POSIX_PRESETS[preset]);
}

/** Restart a service by name: the name is data, quoted for the host's shell, never spliced as code. */
export function serviceRestartScript(platform: PlatformName, service: string): RemoteScript {
  // Quoting stops the shell, not the command: `service --help restart` would run `service --help`.
  if (service.startsWith("-") || service.trim() === "") {
    throw new Error(`service name ${JSON.stringify(service)} cannot be restarted: a name may not be empty or start with "-"`);
  }
  if (platform === "windows") {
    return { command: powershellCommand(`$ErrorActionPreference = 'Stop'\nRestart-Service -Name ${psQuote(service)} -Force\n`), stdin: "", elevation: "none" };
  }
  return { command: "/bin/sh -s", stdin: `systemctl restart -- ${shQuote(service)} || service ${shQuote(service)} restart\n`, elevation: "sudo" };
}
