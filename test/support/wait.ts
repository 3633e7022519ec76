/**
 * Waits for an event the test can only observe from outside (a host back after a reboot, a file a script
 * creates): checks until it holds, failing only after a generous limit, so a machine five times slower
 * passes too. Never a fixed sleep.
 */
export async function waitUntil(condition: () => Promise<boolean> | boolean, what: string, limitMs = 180_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (let pause = 20; !(await condition()); pause = Math.min(pause * 2, 500)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs / 1000} s waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
