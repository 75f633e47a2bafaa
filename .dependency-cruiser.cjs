/*
 * The import rules of lib/, checked by `npm run lint:imports` (scripts/check-imports.mjs, part of `npm run lint`).
 * Each rule says which room may not lean on which: the lower rooms (io, format, data, model, train, results,
 * engine) must work without the ones that present or persist (runs, figures, cli), so a notebook, a test or
 * another tool can take them alone. Cycles between folders are checked by scripts/check-imports.mjs itself
 * (rule no-folder-cycles): dependency-cruiser's folder scope sees only a leaf folder's own imports.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "A cycle (type-only imports included) means two modules are one concept, or a type sits in the wrong one.",
      severity: "error",
      from: { path: "^lib/" },
      to: { circular: true },
    },
    {
      name: "config-loads-no-engine",
      comment: "The config is the lowest layer: its names and schemas import zod and each other, no other room and no tfjs.",
      severity: "error",
      from: { path: "^lib/config/" },
      to: { path: ["^lib/", "@tensorflow"], pathNot: "^lib/(config|errors)/" },
    },
    {
      name: "core-does-not-present-or-persist",
      comment: "data, model, train and results never import runs, figures, notebook or cli: they must run without a run folder, a browser, a Jupyter kernel or a command line.",
      severity: "error",
      from: { path: "^lib/(data|model|train|results)/" },
      to: { path: "^lib/(runs|figures|notebook|cli)/" },
    },
    {
      name: "figure-specs-are-pure",
      comment: "A figure spec is data in, plotly JSON out: no tfjs, no file system, no browser. Only figures/render/ touches Chromium and the disk.",
      severity: "error",
      from: { path: "^lib/figures/", pathNot: "^lib/figures/render/" },
      to: {
        path: ["^lib/figures/render/", "^lib/(io|runs|engine|cli)/", "@tensorflow", "playwright", "nodeplotlib", "tslab"],
      },
    },
    {
      name: "figure-specs-use-no-fs",
      severity: "error",
      from: { path: "^lib/figures/", pathNot: "^lib/figures/render/" },
      to: { dependencyTypes: ["core"], path: "^(node:)?(fs|fs/promises|child_process)$" },
    },
    {
      name: "engine-draws-nothing",
      comment: "The engine (backends, kernels, native code) never imports figures, runs, notebook or cli.",
      severity: "error",
      from: { path: "^lib/engine/" },
      to: { path: "^lib/(figures|runs|notebook|cli)/" },
    },
    {
      name: "notebook-is-the-top-floor",
      comment: "notebook/ is what a Jupyter user meets (startNotebook, fit, the kernel, the runner): it uses runs and figures, and none of them leans on it.",
      severity: "error",
      from: { path: "^lib/(runs|figures|search|io|format|bench)/" },
      to: { path: "^lib/notebook/" },
    },
    {
      name: "only-the-kernel-imports-tslab",
      comment: "tslab's internals (converter, executor, ZMQ server) are pinned and private; lib/notebook/kernel.ts alone builds on them.",
      severity: "error",
      from: { path: "^lib/", pathNot: "^lib/notebook/kernel\\.ts$" },
      to: { path: "node_modules/tslab/dist/(converter|executor|jupyter|main)" },
    },
    {
      name: "errors-are-the-floor",
      comment: "errors/ holds the UserError base that every room's errors extend: it imports nothing, so any room may import it.",
      severity: "error",
      from: { path: "^lib/errors/" },
      to: { path: "^lib/", pathNot: "^lib/errors/" },
    },
    {
      name: "plumbing-stays-low",
      comment: "io/ and format/ are the ground floor: they import no other room but config.",
      severity: "error",
      from: { path: "^lib/(io|format)/" },
      to: { path: "^lib/", pathNot: "^lib/(io|format|config|errors)/" },
    },
    {
      name: "search-core-is-pure",
      comment: "The search's core (space, trial states, best-trial choice) is data in, data out: it imports no other room and no I/O.",
      severity: "error",
      from: { path: "^lib/search/core/" },
      to: { path: ["^lib/(?!search/core/|errors/)", "^(node:)?(fs|fs/promises|child_process|net)$", "@electric-sql", "^pg$"] },
    },
    {
      name: "samplers-and-pruners-decide-only",
      comment: "A sampler or pruner decides from the study alone: no storage, no driver, no I/O (Optuna keeps them apart from storages too).",
      severity: "error",
      from: { path: "^lib/search/(samplers|pruners)/" },
      to: {
        path: ["^lib/search/(storage|driver|session|report|epoch-report)", "^(node:)?(fs|fs/promises|child_process|net)$", "@electric-sql", "^pg$"],
      },
    },
    {
      name: "only-cli-imports-cli",
      severity: "error",
      from: { path: "^lib/", pathNot: "^lib/cli/" },
      to: { path: "^lib/cli/" },
    },
    {
      name: "nothing-imports-the-public-index",
      comment: "lib/index.ts is the public surface for notebooks and users; inside lib/ import the module itself.",
      severity: "error",
      from: { path: "^lib/" },
      to: { path: "^lib/index\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: a cycle through types is still a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "^(dist|node_modules)/" },
  },
};
