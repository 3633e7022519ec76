// Our side of the benchmark's apply comparison, as a process of its own like `ansible-playbook`: converge
// every lab host to one root in exact mode and, only where the store changed, reload nginx with the same
// command the other sides run, in the same SSH session. Usage: node applyFleet.js PLAN.json
import { readFileSync } from "node:fs";
import { parseCertificates } from "../components/certificates";
import { platformFor } from "../components/platforms";
import { userCommand } from "../components/resources/afterChangeScripts";
import { convergeWith } from "../components/store";
import { mapWithConcurrency, markCommandStart, PHASES, timedPhase, withSession } from "../components/transport";

interface ApplyFleetPlan {
  hosts: { address: string; hostKey: string }[];
  rootFile: string;
  privateKeyFile: string;
  concurrency: number;
  reloadCommand: string;
}

async function main(): Promise<void> {
  markCommandStart();
  const job = JSON.parse(readFileSync(process.argv[2], "utf8")) as ApplyFleetPlan;
  const roots = parseCertificates(readFileSync(job.rootFile), { name: job.rootFile });
  const privateKey = readFileSync(job.privateKeyFile, "utf8");
  const changed = await mapWithConcurrency(job.hosts, job.concurrency, (host) =>
    withSession({ host: host.address, hostKey: host.hostKey, privateKey, retries: 0 }, async (session) => {
      const result = await convergeWith(session, platformFor("debian"), "Root", { roots }, "exact");
      if (result.changed) await timedPhase(PHASES.reload, () => session.run(userCommand("debian", job.reloadCommand)));
      return result.changed;
    }),
  );
  console.log(`${changed.filter(Boolean).length} of ${changed.length} hosts changed and reloaded`);
}

main().catch((error: unknown) => {
  console.error(`applyFleet: ${(error as Error).message}`);
  process.exit(1);
});
