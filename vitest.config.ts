import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 30_000 },
      },
      {
        // End-to-end: the real dataset, Jupyter kernel and browser. package.json runs this project with
        // --no-file-parallelism (a root-only option): one file at a time, since each trains or drives a
        // browser and the machine has two cores.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 20 * 60_000,
          hookTimeout: 10 * 60_000,
        },
      },
    ],
  },
});
