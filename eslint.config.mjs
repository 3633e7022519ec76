import js from "@eslint/js";
import tseslint from "typescript-eslint";

// The package's floors, lowest first. A module imports only from floors below its own (or from its own folder):
// no back-arrows. Folders of components/ and its top-level files (WebServerTrust.ts, ...) are named alike.
// docs/architecture.md ("Layers") says what each floor holds.
const LAYERS = [
  ["certificates", "typeTokens"],
  ["platforms", "keystores"],
  ["plan", "transport", "sources"],
  ["store"],
  ["resources"],
  ["rollout", "serverCore", "WebServerTrust", "TrustFleet"],
  ["config", "scan", "selftest"],
  ["program", "provider", "cli", "index"],
];
const FOLDERS = new Set(["certificates", "platforms", "keystores", "plan", "transport", "sources", "store", "resources", "config", "scan", "selftest", "provider", "cli"]);
const filesOf = (name) => (FOLDERS.has(name) ? [`components/${name}/**/*.ts`] : [`components/${name}.ts`]);
const importsOf = (name) => (FOLDERS.has(name) ? [`../${name}`, `../${name}/*`, `./${name}`, `./${name}/*`] : [`../${name}`, `./${name}`]);

const layerRules = LAYERS.flatMap((layer, floor) => {
  const above = LAYERS.slice(floor + 1).flat();
  if (above.length === 0) return [];
  return layer.map((name) => ({
    files: filesOf(name),
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: above.flatMap(importsOf), message: `${name} is on floor ${floor + 1} of the layers in eslint.config.mjs; it may not import from a higher floor` }],
      }],
    },
  }));
});

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".lab/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  ...layerRules,
);
