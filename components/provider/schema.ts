import { STORE_MODES } from "../plan";
import { PLATFORM_NAMES, STORE_NAMES } from "../platforms";
import { RESTART_PRESETS } from "../resources/afterChangeScripts";
import { TLS_VERSIONS } from "../resources/health";
import { FETCH_ROOTS_FUNCTION, PACKAGE_NAME, PACKAGE_VERSION, RESOURCE_NAMES, TRUST_FLEET_TYPE, WEB_SERVER_TRUST_TYPE } from "../typeTokens";

// The package schema the plugin serves (GetSchema) and `schema.json` holds: what YAML checks programs against
// and what SDK generators read. Written by hand (Pulumi needs named object types); a test holds every
// resource's properties equal to the zod schema the provider validates with.

type Property = Record<string, unknown>;
const string = (description: string, extra: Property = {}): Property => ({ type: "string", description, ...extra });
const boolean = (description: string): Property => ({ type: "boolean", description });
const number = (description: string): Property => ({ type: "number", description });
const integer = (description: string): Property => ({ type: "integer", description });
const ref = (type: string, description: string, extra: Property = {}): Property => ({ $ref: `#/types/${PACKAGE_NAME}:index:${type}`, description, ...extra });
const arrayOf = (items: Property, description: string): Property => ({ type: "array", items, description });
const mapOf = (items: Property, description: string): Property => ({ type: "object", additionalProperties: items, description });
const enumOf = (values: readonly string[], description: string): Property => ({ type: "string", description: `${description} One of: ${values.join(", ")}.` });

const connection = ref("Connection", "How to reach the server over SSH; a secret in the state.", { secret: true });
const platform = enumOf(PLATFORM_NAMES, "The trust-store family.");
const mode = enumOf(STORE_MODES, "What else may be removed.");

const afterChangeInputs: Record<string, Property> = {
  connection,
  platform,
  revision: string("The TrustStore's revision: the action runs whenever it changes."),
  changed: boolean("The TrustStore's last apply changed the store: a new action runs only then."),
  testCommand: string("Runs on the server after the action; a failure fails the rollout."),
  healthCheck: ref("HealthCheck", "An HTTPS request proving the fix; a secret in the state (it holds a client key).", { secret: true }),
  providerVersion: string("Written by the TypeScript SDK; leave unset."),
};
const afterChangeOutputs: Record<string, Property> = {
  acted: boolean("The action ran in the last create or update."),
  bootIdBefore: string("Boot id before a reboot."),
  bootIdAfter: string("Boot id after a reboot."),
  rebootSkipped: boolean("onlyIfPending found no reboot owed, so none ran."),
  healthStatus: integer("The health check's HTTP status."),
  seconds: number("How long the action took."),
  kind: string("reboot, restart or verify."),
};

const trustStoreInputs: Record<string, Property> = {
  connection,
  platform,
  store: enumOf(STORE_NAMES, "The Windows logical store (Linux: Root)."),
  roots: mapOf(ref("RootInput", ""), "Desired roots by SHA-256 (upper-case hex)."),
  distrusted: mapOf(ref("RootInput", ""), "Roots the server must not trust, by SHA-256."),
  mode,
  retainOnDelete: boolean("Leave the roots on the server when the resource is deleted."),
  owner: string("This declaration's id in the host-side manifest; default <project>/<stack>/<name>."),
  providerVersion: string("Written by the TypeScript SDK; leave unset."),
};

const serverProperties: Record<string, Property> = {
  connection,
  platform,
  roots: arrayOf(string(""), "PEM text of the self-signed roots the server must trust (a file may hold several)."),
  intermediates: arrayOf(string(""), "PEM text of intermediate CAs: the Windows CA store, or where the Linux family keeps them."),
  crossSigned: arrayOf(string(""), "PEM text of cross-signed forms of declared roots (same subject and key, issued by another CA)."),
  clientAuthIssuers: arrayOf(string(""), "PEM text of CAs for the Windows ClientAuthIssuer store."),
  distrusted: arrayOf(string(""), "PEM text of roots the server must not trust."),
  mode,
  afterChange: ref("AfterChange", "What runs after a change; Windows default: a reboot."),
  testCommand: string("Runs on the server after the change."),
  healthCheck: ref("HealthCheck", "An HTTPS request proving the fix.", { secret: true }),
  retainOnDelete: boolean("Leave the roots on the server when removed from the program."),
  groups: arrayOf(string(""), "Labels for policies."),
  tags: mapOf(string(""), "Labels for policies."),
  previousNames: arrayOf(string(""), "Names this server had before: renamed in place, not replaced."),
};

const report = ref("ServerReport", "What the last run did on the server.");

export const PACKAGE_SCHEMA = {
  name: PACKAGE_NAME,
  displayName: "trusted-roots",
  version: PACKAGE_VERSION,
  description: "Keep the trusted root CA stores of a web server fleet exactly as declared.",
  keywords: ["pki", "certificates", "trust-store", "iis", "nginx", "category/utility", "kind/component"],
  license: "Apache-2.0",
  repository: "https://github.com/trusted-roots/pulumi-trusted-roots",
  language: {
    nodejs: { packageName: "pulumi-trusted-roots" },
    python: { packageName: "pulumi_trusted_roots", pyproject: { enabled: true }, respectSchemaVersion: true },
    go: { importBasePath: "github.com/trusted-roots/pulumi-trusted-roots/sdk/go/trustedroots", respectSchemaVersion: true },
    csharp: { rootNamespace: "Pulumi", packageReferences: { Pulumi: "3.*" }, respectSchemaVersion: true },
  },
  types: {
    [`${PACKAGE_NAME}:index:Connection`]: {
      type: "object",
      description: "An SSH connection with a pinned host key.",
      properties: {
        host: string("DNS name or address."),
        port: integer("SSH port (22)."),
        user: string("Login (root); non-root users need NOPASSWD sudo on Linux."),
        hostKey: string('The pinned host key: a known_hosts line, "ssh-ed25519 AAAA..." or "SHA256:...".'),
        insecureSkipHostKeyCheck: boolean("Accept any host key (warned on every connection)."),
        privateKey: string("OpenSSH private key.", { secret: true }),
        passphrase: string("The private key's passphrase.", { secret: true }),
        password: string("Password login.", { secret: true }),
        agent: { oneOf: [{ type: "string" }, { type: "boolean" }], description: "An ssh-agent socket path, or true for $SSH_AUTH_SOCK." },
        sudo: boolean("Wrap Linux commands in sudo -n (default: when user is not root)."),
        connectTimeoutSeconds: number("Connect timeout (15)."),
        commandTimeoutSeconds: number("Per-command timeout (600)."),
        retries: integer("Retries when unreachable (2)."),
        bastion: ref("Bastion", "A jump host the connection goes through (like ssh -J)."),
      },
      required: ["host"],
    },
    [`${PACKAGE_NAME}:index:Bastion`]: {
      type: "object",
      description: "A jump host with its own pinned key and credentials.",
      properties: {
        host: string("DNS name or address."),
        port: integer("SSH port (22)."),
        user: string("Login (root)."),
        hostKey: string("The bastion's pinned host key (required)."),
        privateKey: string("OpenSSH private key.", { secret: true }),
        passphrase: string("The private key's passphrase.", { secret: true }),
        password: string("Password login.", { secret: true }),
        agent: { oneOf: [{ type: "string" }, { type: "boolean" }], description: "An ssh-agent socket path, or true for $SSH_AUTH_SOCK." },
        connectTimeoutSeconds: number("Connect timeout (15)."),
      },
      required: ["host", "hostKey"],
    },
    [`${PACKAGE_NAME}:index:RootInput`]: {
      type: "object",
      description: "A certificate as a TrustStore input.",
      properties: {
        pem: string("PEM text."),
        sha256: string("Upper-case SHA-256 hex."),
        sha1: string("Upper-case SHA-1 hex."),
        subject: string("Distinguished name."),
        fetchedFrom: ref("FetchedFrom", "Where a fetched root came from, and whether a pin selected it (the pinned-sources policy reads it)."),
      },
      required: ["pem", "sha256", "sha1", "subject"],
    },
    [`${PACKAGE_NAME}:index:FetchedFrom`]: {
      type: "object",
      properties: {
        url: string("The source's address."),
        pinned: boolean("Whether a pinned thumbprint selected the root."),
        pinnedBy: string('Which kind of pin selected it: "SHA-1" or "SHA-256".'),
      },
      required: ["url", "pinned"],
    },
    [`${PACKAGE_NAME}:index:ClientCertificate`]: {
      type: "object",
      properties: { cert: string("PEM certificate."), key: string("PEM private key.", { secret: true }) },
      required: ["cert", "key"],
    },
    [`${PACKAGE_NAME}:index:HealthCheck`]: {
      type: "object",
      description: "An HTTP(S) request that proves the fix.",
      properties: {
        url: string("http:// or https:// URL."),
        expectStatus: integer("Expected status (200)."),
        clientCertificate: ref("ClientCertificate", "Presented as the TLS client."),
        caCertificate: string("PEM of the CA that issued the server's certificate."),
        insecureSkipTlsVerify: boolean("Do not verify the server's certificate."),
        tlsVersion: enumOf(TLS_VERSIONS, "Highest TLS version offered; unset: 1.2 for Windows servers (IIS asks for the client certificate by renegotiation, which TLS 1.3 removed), 1.3 otherwise."),
        timeoutSeconds: number("Give up after (120)."),
        intervalSeconds: number("Between attempts (2)."),
      },
      required: ["url"],
    },
    [`${PACKAGE_NAME}:index:AfterChange`]: {
      type: "object",
      description: "What runs after a store change.",
      properties: {
        action: enumOf(["none", "reboot", "restart"], "The action."),
        timeoutSeconds: number("reboot: how long the host may take to come back."),
        delaySeconds: number("reboot: delay before it starts."),
        rebootCommand: string("reboot: replaces the platform's command."),
        onlyIfPending: boolean("reboot: only on hosts that already owe a reboot."),
        preset: enumOf(RESTART_PRESETS, "restart: a preset."),
        service: string("restart: a service name."),
        command: string("restart: your own command."),
      },
      required: ["action"],
    },
    [`${PACKAGE_NAME}:index:LdapSource`]: {
      type: "object",
      description: "Where a directory publishes CA certificates.",
      properties: {
        url: string("ldap://host[:port] or ldaps://host[:port]."),
        base: string("Where to search (scope sub), e.g. AD's CN=Certification Authorities,CN=Public Key Services,CN=Services,CN=Configuration,DC=..."),
        bindDn: string("Bind as this DN (its password is ldapPassword); anonymous without it."),
        startTls: boolean("Upgrade an ldap:// connection with StartTLS."),
      },
      required: ["url", "base"],
    },
    [`${PACKAGE_NAME}:index:Rollout`]: {
      type: "object",
      properties: { batchSize: integer("Servers per wave."), percent: number("Servers per wave, in percent of the fleet."), firstWave: integer("Size of a first, canary wave.") },
    },
    [`${PACKAGE_NAME}:index:Server`]: {
      type: "object",
      description: "One server of a TrustFleet.",
      properties: { name: string("Unique within the fleet; names its resources."), ...serverProperties },
      required: ["name", "connection", "platform"],
    },
    [`${PACKAGE_NAME}:index:ServerReport`]: {
      type: "object",
      properties: {
        server: string(""),
        status: string("changed or in sync."),
        imported: arrayOf(string(""), "Subjects imported."),
        removed: arrayOf(string(""), "Subjects removed."),
        revision: string("The store revision; chain your own resources on it."),
      },
    },
    [`${PACKAGE_NAME}:index:ObservedSummary`]: {
      type: "object",
      properties: {
        bootId: string(""),
        pendingReboot: boolean(""),
        managed: arrayOf({ type: "object", additionalProperties: { $ref: "pulumi.json#/Any" } }, "Roots this tool installed."),
        foreign: arrayOf({ type: "object", additionalProperties: { $ref: "pulumi.json#/Any" } }, "Roots someone else installed."),
        distrusted: arrayOf({ type: "object", additionalProperties: { $ref: "pulumi.json#/Any" } }, "Distrusted roots."),
        systemRoots: integer("Roots the OS ships."),
        warnings: arrayOf(string(""), "What could not be read."),
      },
    },
  },
  resources: {
    [`${PACKAGE_NAME}:index:${RESOURCE_NAMES.trustStore}`]: {
      description: "One server's trust store, kept as declared.",
      inputProperties: trustStoreInputs,
      requiredInputs: ["connection", "platform", "roots"],
      properties: {
        ...trustStoreInputs,
        observed: ref("ObservedSummary", "What the last observation saw."),
        imported: arrayOf(string(""), "Subjects the last apply imported."),
        removed: arrayOf(string(""), "Subjects the last apply removed."),
        revision: string("Changes only when this tool changed the store."),
        changed: boolean("The last create or update changed the store."),
        holder: string("Whom the host's manifest says holds this store's roots: the owner id and a suffix made at create, so a replacement's delete releases only its own holds."),
      },
      required: ["connection", "platform", "roots", "revision", "changed"],
    },
    [`${PACKAGE_NAME}:index:${RESOURCE_NAMES.hostReboot}`]: {
      description: "Reboots a server after its store changed and waits for a new boot id; then the test command and health check.",
      inputProperties: {
        ...afterChangeInputs,
        rebootCommand: string("Replaces the platform's reboot command."),
        delaySeconds: integer("Delay before the reboot (5)."),
        timeoutSeconds: number("How long the reboot may take (600)."),
        onlyIfPending: boolean("Reboot only when the host already owes a reboot."),
        pendingReboot: boolean("The store's observation: a reboot is pending."),
      },
      requiredInputs: ["connection", "platform", "revision", "changed"],
      properties: { ...afterChangeInputs, ...afterChangeOutputs },
    },
    [`${PACKAGE_NAME}:index:${RESOURCE_NAMES.serviceRestart}`]: {
      description: "Restarts or reloads the web service after the store changed.",
      inputProperties: {
        ...afterChangeInputs,
        preset: enumOf(RESTART_PRESETS, "A preset."),
        service: string("A service name."),
        command: string("Your own command."),
      },
      requiredInputs: ["connection", "platform", "revision", "changed"],
      properties: { ...afterChangeInputs, ...afterChangeOutputs },
    },
    [`${PACKAGE_NAME}:index:${RESOURCE_NAMES.healthCheck}`]: {
      description: "Runs the test command and health check after the store changed.",
      inputProperties: afterChangeInputs,
      requiredInputs: ["connection", "platform", "revision", "changed"],
      properties: { ...afterChangeInputs, ...afterChangeOutputs },
    },
    [`${PACKAGE_NAME}:index:${RESOURCE_NAMES.waveGate}`]: {
      description: "The point between two rollout waves (internal).",
      inputProperties: {},
      properties: {},
    },
    [WEB_SERVER_TRUST_TYPE]: {
      isComponent: true,
      description: "One web server's trust: its stores, then the after-change action with the health check.",
      inputProperties: serverProperties,
      requiredInputs: ["connection", "platform"],
      properties: { report },
      required: ["report"],
    },
    [TRUST_FLEET_TYPE]: {
      isComponent: true,
      description: "Many servers rolled out in waves; a failing wave leaves the later ones untouched.",
      inputProperties: {
        servers: arrayOf(ref("Server", ""), "The servers, in rollout order."),
        rollout: ref("Rollout", "Wave sizes (default: 25 % of the fleet per wave)."),
      },
      requiredInputs: ["servers"],
      properties: {
        report: arrayOf(ref("ServerReport", ""), "What the last run did, per server."),
        waves: arrayOf(arrayOf(string(""), ""), "Server names per wave."),
      },
      required: ["report", "waves"],
    },
  },
  functions: {
    [FETCH_ROOTS_FUNCTION]: {
      description:
        "Roots from where the CA publishes them (a URL, an AD CS certsrv site, or an LDAP directory), fetched when the program runs; only certificates a pinned thumbprint names are returned, and each pin must be found.",
      inputs: {
        properties: {
          url: string("A URL serving DER, PEM or PKCS#7."),
          certsrv: string("An AD CS web enrollment site, e.g. http://ca01/certsrv: every renewal's CA chain."),
          ldap: ref("LdapSource", "A directory's cACertificate values."),
          ldapPassword: string("The password of ldap.bindDn.", { secret: true }),
          thumbprints: arrayOf(string(""), "The pins: SHA-1 or SHA-256 thumbprints verified out of band."),
          proxy: string("An HTTP proxy for url and certsrv, without a login: http://proxy.corp:3128."),
          proxyCredentials: string("The proxy's login, user:password.", { secret: true }),
          caBundle: string("PEM text of the CAs that issue the source's own TLS certificate."),
          timeoutSeconds: number("Per request (30)."),
        },
        required: ["thumbprints"],
      },
      outputs: {
        properties: {
          pems: arrayOf(string(""), "The pinned certificates, as PEM: give them to roots."),
          subjects: arrayOf(string(""), "Their subjects, in the same order."),
          leftOut: arrayOf(string(""), "Subjects the source also answered, not pinned and so left out."),
        },
        required: ["pems", "subjects", "leftOut"],
      },
    },
  },
};
