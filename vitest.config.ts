import * as os from "node:os";
import { defineConfig } from "vitest/config";

/** The projects named by --project on this command line; none means every project. */
function selectedProjects(argv: string[]): string[] {
  return argv.flatMap((arg, i) => (arg === "--project" ? [argv[i + 1] ?? ""] : arg.startsWith("--project=") ? [arg.slice(10)] : []));
}
const selected = selectedProjects(process.argv);
// Vitest decides for a whole run, not per project, whether a worker process serves one file or many (a root
// option). Unit files share their workers, which then load tfjs, the native addon and the library once instead
// of once per file: that loading was two thirds of the unit run (collect 66 s of 184 s; 49 s in all without it,
// same 799 tests). E2e files keep a fresh process each (browsers, kernels, signal handlers), so a run that
// includes them (no --project, or --project e2e) keeps the default.
const unitOnly = selected.length > 0 && selected.every((name) => name === "unit");

export default defineConfig({
  test: {
    poolOptions: { forks: { isolate: !unitOnly } },
    // Two workers even on two cores (vitest's default there is one): the unit files wait on child processes and
    // the disk as well as compute, and a second worker overlaps that (unisolated, under the same heavy load:
    // 107 s with two, 129 s with one).
    // A root-only option; the e2e project runs with --no-file-parallelism, one file at a time, regardless.
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    minWorkers: 1,
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 30_000,
          // Forks, not threads: long-run.test.ts counts the process's open files, which other threads' files would
          // add to. Not isolated (see above): every file that depends on the tfjs backend sets it in its beforeAll
          // (tf.setBackend or initBackend), so it does not inherit the previous file's.
          pool: "forks",
          isolate: false,
        },
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
