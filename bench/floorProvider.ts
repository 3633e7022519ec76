// The engine's floor for `npm run bench:engine`: a provider plugin serving the same package, schema and resource
// types over the same plugin transport (@pulumi/pulumi/provider), that does nothing. Every resource's outputs
// are its inputs plus a constant revision and "not changed" (what the components chain the after-change on; an
// output missing from the state would be unknown in a preview), a diff is an inequality of the inputs, nothing is
// contacted. The same program and stack config
// run against it give what the Pulumi engine itself costs for that many resources; bench/floor-bin starts it.
import * as pulumiProvider from "@pulumi/pulumi/provider";
import { PACKAGE_SCHEMA } from "../components/provider/schema";
import { plainValues } from "../components/provider/wire";
import { stableStringify } from "../components/resources/shared";

type Values = Record<string, unknown>;

const outputsOf = (inputs: Values): Values => ({ revision: "floor", changed: false, ...inputs });

class FloorProvider implements pulumiProvider.Provider {
  readonly version = PACKAGE_SCHEMA.version;
  private ids = 0;

  async getSchema(): Promise<string> {
    return JSON.stringify(PACKAGE_SCHEMA);
  }

  async check(_urn: string, _olds: Values, news: Values): Promise<pulumiProvider.CheckResult> {
    return { inputs: news };
  }

  async diff(_id: string, _urn: string, olds: Values, news: Values): Promise<pulumiProvider.DiffResult> {
    // Secrets arrive wrapped, and a state's keys in its own order: compared as plain values with sorted keys.
    return { changes: stableStringify(plainValues(olds)) !== stableStringify(plainValues(outputsOf(news))) };
  }

  async create(_urn: string, inputs: Values): Promise<pulumiProvider.CreateResult> {
    return { id: `floor-${this.ids++}`, outs: outputsOf(inputs) };
  }

  async read(id: string, _urn: string, props?: Values): Promise<pulumiProvider.ReadResult> {
    return { id, props, inputs: props };
  }

  async update(_id: string, _urn: string, _olds: Values, news: Values): Promise<pulumiProvider.UpdateResult> {
    return { outs: outputsOf(news) };
  }

  async delete(): Promise<void> {}
}

void pulumiProvider.main(new FloorProvider(), process.argv.slice(2));
