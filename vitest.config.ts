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

/**
 * E2e files that get the machine to themselves, one after another once the other e2e files are done: their
 * assertions hang on timing that a second busy file would skew. jupyter-lab and jupyter-live press ■ mid-epoch and
 * watch the live bar and curves; interrupt signals a kernel once its curves are on screen; search-postgres lets a
 * worker's claim lapse after 6 s without a heartbeat, which a starved live worker could miss too.
 */
const E2E_ALONE = ["jupyter-lab", "jupyter-live", "interrupt", "search-postgres"].map((name) => `test/e2e/${name}.test.ts`);

/** The end-to-end settings both e2e projects share: the real dataset, Jupyter kernel and browser take minutes. */
const e2e = { testTimeout: 20 * 60_000, hookTimeout: 10 * 60_000 };

export default defineConfig({
  test: {
    poolOptions: { forks: { isolate: !unitOnly } },
    // Two workers even on two cores (vitest's default there is one). The unit files wait on child processes and
    // the disk as well as compute, and a second worker overlaps that (unisolated, under the same heavy load:
    // 107 s with two, 129 s with one). The e2e files wait even more (a kernel or a Jupyter server starting, a
    // browser, a child training), so two of them run side by side as well.
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
        // End-to-end: the real dataset, Jupyter kernel and browser, two files at a time. Each file has its own
        // temp folders, free ports and child processes (the render daemon is shared by design), so two side by
        // side only slow each other down.
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], exclude: E2E_ALONE, ...e2e },
      },
      {
        // The timing-sensitive e2e files (E2E_ALONE): one worker runs them one after another, after the "e2e"
        // files (vitest runs a pool's single-fork files last), each with a fresh module graph.
        test: { name: "e2e-alone", include: E2E_ALONE, poolOptions: { forks: { singleFork: true } }, ...e2e },
      },
    ],
  },
});
