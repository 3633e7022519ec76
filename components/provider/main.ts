// `pulumi-resource-trusted-roots`: the provider plugin's entry point, started by the Pulumi CLI with the engine's
// address as its first argument. The first line it prints must be its port; nothing may print before.

// The SDK's log module reports to the engine only when it knows the engine's address when it loads; without it
// a plugin's warnings (an unpinned host, a retry) would go to a stderr the CLI hides.
const engineAddress = process.argv[2];
if (engineAddress && !process.env.PULUMI_NODEJS_ENGINE) process.env.PULUMI_NODEJS_ENGINE = engineAddress;

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after the environment above is set */
const pulumiProvider: typeof import("@pulumi/pulumi/provider") = require("@pulumi/pulumi/provider");

// `pulumi import` sends a ReadRequest without properties, and the SDK 3.248 server reads them unconditionally
// (`getProperties().toJavaScript()`): an empty Struct lets `read` run with none, as the protocol allows.
const { ReadRequest } = require("@pulumi/pulumi/proto/provider_pb") as { ReadRequest: { prototype: { getProperties(): unknown } } };
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as { Struct: new () => unknown };
const getProperties = ReadRequest.prototype.getProperties;
ReadRequest.prototype.getProperties = function (this: unknown) {
  return getProperties.call(this) ?? new Struct();
};
const { TrustedRootsProvider }: typeof import("./provider") = require("./provider");
const { PACKAGE_SCHEMA }: typeof import("./schema") = require("./schema");
/* eslint-enable @typescript-eslint/no-require-imports */

void pulumiProvider.main(new TrustedRootsProvider(PACKAGE_SCHEMA.version, JSON.stringify(PACKAGE_SCHEMA)), process.argv.slice(2));
