/**
 * Which way imports run (`npm run lint` checks it with dependency-cruiser). lib/ is layered, bottom up:
 *   calculators (pure) < settings (the settings kit: rules, validation, AWS data) < core (context, key, IAM,
 *   security groups) < the resource areas: every other folder (network, registry, database, edge: what tasks use;
 *   none imports another)
 *   < compute (cluster, capacity, task definition, service) < workers < observability, ci
 *   < settings/environment (the environment's schema, joined from every area's section; no construct reads it).
 * Above lib/: environments/ (settings as data), stacks/ (composition), main.ts, emulator/, scripts/.
 * Beside them all, cli/: the command-line kit every script uses, importing nothing of the project.
 * Tests import anything; nothing imports a test, but the emulator's lifecycle and the game day, proofs themselves,
 * run the tests' example variants (__tests__/support/variants.ts). The app's source is the image: it imports only itself.
 */
const { readdirSync } = require("node:fs");
const path = require("node:path");
/** The layers that are not resource areas, bottom up; every other folder of lib/ is one (a new lib/cache/ is, with no change here). */
const LAYERS = ["calculators", "settings", "core", "compute", "workers", "observability", "ci"];
const RESOURCE_AREAS = readdirSync(path.join(__dirname, "lib"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !LAYERS.includes(entry.name))
  .map((entry) => entry.name)
  .sort()
  .join("|");
const forbid = (name, comment, from, to) => ({ name, comment, severity: "error", from, to });

module.exports = {
  forbidden: [
    // Type-only imports too: a loop through a type still ties the two modules' designs together (the context once
    // held the key that reads the context); the shared part moves down a layer, or the type is named where it is used.
    forbid("no-circular", "Modules that import each other, directly or around a loop: move the shared part down a layer.", {}, { circular: true }),
    forbid("not-to-unresolvable", "An import of a module that does not exist.", {}, { couldNotResolve: true }),
    forbid(
      "no-test-imports",
      "Only tests import tests: a script or a construct needs a module of its own. The emulator's lifecycle and the game day, proofs themselves, may read the example variants.",
      { pathNot: "(^|/)__tests__/" },
      { path: "(^|/)__tests__/", pathNot: "^__tests__/support/variants\\.ts$" },
    ),
    forbid(
      "variants-are-proofs",
      "The example variants (__tests__/support/variants.ts) are the proofs': the tests', the emulator's and the game day's; what deploys reads only environments/.",
      { pathNot: "^(__tests__|emulator|scripts/gameday)/" },
      { path: "^__tests__/support/variants\\.ts$" },
    ),
    forbid(
      "lib-stays-in-lib",
      "Constructs and calculators know nothing of the environments, stacks, emulator or scripts above them.",
      { path: "^lib/" },
      { path: "^(stacks|environments|emulator|scripts|__tests__|app)/|^main\\.ts$" },
    ),
    forbid(
      "calculators-are-pure",
      "A calculator is pure arithmetic over plain data: it imports only other calculators.",
      { path: "^lib/calculators/" },
      { path: "^lib/(?!calculators/)" },
    ),
    forbid(
      "settings-kit-below-constructs",
      "The settings kit (rules, validation, AWS data) imports only calculators.",
      { path: "^lib/settings/(?!environment/)" },
      { path: "^lib/(?!settings/|calculators/)" },
    ),
    forbid(
      "environment-schema-on-top",
      "lib/settings/environment joins every area's settings into an environment's: it sits above them all, and no construct reads it.",
      { path: "^lib/(?!settings/environment/)" },
      { path: "^lib/settings/environment/" },
    ),
    forbid("core-below-areas", "lib/core serves every area, so it imports none.", { path: "^lib/core/" }, { path: "^lib/(?!core/|settings/|calculators/)" }),
    forbid(
      "resource-areas-side-by-side",
      "The resource areas (every folder of lib/ that is not a layer: network, registry, database, edge, and a fork's own) are handed to the tasks; none imports another, nor anything above.",
      { path: `^lib/(${RESOURCE_AREAS})/` },
      { path: `^lib/(?!$1/|core/|settings/|calculators/)` },
    ),
    forbid(
      "compute-below-workers",
      "compute (cluster, task definition, service) does not reach up to workers, observability or ci.",
      { path: "^lib/compute/" },
      { path: "^lib/(workers|observability|ci)/" },
    ),
    forbid("workers-below-observability", "workers do not reach up to observability or ci.", { path: "^lib/workers/" }, { path: "^lib/(observability|ci)/" }),
    forbid(
      "observability-and-ci-apart",
      "Alarms and the CI role each read the constructs, not each other.",
      { path: "^lib/(observability|ci)/" },
      { path: "^lib/(observability|ci)/", pathNot: "^lib/$1/" },
    ),
    forbid(
      "environments-are-data",
      "The environments are data: they know the settings' types, not the stacks, emulator or scripts.",
      { path: "^environments/" },
      { path: "^(stacks|emulator|scripts|app)/|^main\\.ts$" },
    ),
    forbid(
      "stacks-compose",
      "Stacks compose constructs for an environment; where they are deployed (AWS, offline, the emulator) is a target they are given (lib/core/deployment-target.ts).",
      { path: "^stacks/" },
      { path: "^(scripts|app|emulator)/" },
    ),
    forbid(
      "cli-kit-stands-alone",
      "cli/ (the command-line conventions) is imported by scripts, the emulator and app/scripts alike: it imports nothing of the project.",
      { path: "^cli/" },
      { path: "^(?!cli/|node_modules/)", dependencyTypesNot: ["core"] },
    ),
    forbid(
      "app-is-the-image",
      "The app's source ships alone in its image: it imports nothing outside app/src.",
      { path: "^app/src/" },
      { path: "^(?!app/src/|node_modules/)", dependencyTypesNot: ["core"] },
    ),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)node_modules/|^(cdktf\\.out|\\.build|\\.emulator|\\.offline|\\.local|app/dist|coverage)/" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      extensions: [".ts", ".cjs", ".js", ".mjs", ".d.cts", ".json"],
      conditionNames: ["import", "require", "node", "default"],
      exportsFields: ["exports"],
    },
  },
};
