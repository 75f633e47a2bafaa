// Preload (`node -r ./test/load-sources.cjs`) that lets a plain Node child require lib/'s TypeScript as it is, without
// a build: each .ts file is transpiled alone to CommonJS with esbuild (vitest's own transformer), whose top-level
// requires and lazy `await import()`s follow the modules' imports as tsc's do. Tests that look at a fresh process's
// module cache use it, so they check the sources and never a stale dist/.
const fs = require("node:fs");
const { transformSync } = require("esbuild");

require.extensions[".ts"] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, "utf8"), {
    loader: "ts",
    format: "cjs",
    target: "es2022",
    sourcefile: filename,
    // `await import("x")` becomes a require when it runs, as tsc emits it for CommonJS.
    supported: { "dynamic-import": false },
  });
  module._compile(code, filename);
};
