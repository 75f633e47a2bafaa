import * as os from "node:os";
import * as path from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

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
const e2eOnly = selected.length > 0 && selected.every((name) => name.startsWith("e2e"));

/**
 * The slowest e2e files, slowest first (seconds in the last fresh-clone CI: notebooks 237, jupyter-lab 219,
 * docs-examples 197, keras-exchange 172, search-kill-points 131, figures 70, keras-layers 59, kill-writer 54,
 * kill-report-trial 52, search-db-lost 49, keras-optimizers 46, search-postgres 44, interrupt 43, jupyter-live 41).
 * Vitest runs files it has timed before longest first; files it has not (a fresh clone) it runs largest first, which
 * put the 113-line notebooks.test.ts among the last and left one worker on it alone at the end, and the 106-line
 * search-kill-points.test.ts after files a quarter its length. So when a file has no timing yet, these go first, in
 * this order: the longest start while the short ones fill the other workers' gaps at the end.
 */
const SLOWEST_E2E = [
  "notebooks",
  "jupyter-lab",
  "docs-examples",
  "keras-exchange",
  "search-kill-points",
  "figures",
  "keras-layers",
  "kill-writer",
  "kill-report-trial",
  "search-db-lost",
  "keras-optimizers",
  "search-postgres",
  "interrupt",
  "jupyter-live",
];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const timed = (f: TestSpecification) =>
      this.ctx.cache.getFileTestResults(`${f.project.name}:${path.relative(this.ctx.config.root, f.moduleId)}`) !== undefined;
    if (sorted.every(timed)) return sorted;
    const rank = (f: TestSpecification) => {
      const i = SLOWEST_E2E.indexOf(path.basename(f.moduleId, ".test.ts"));
      return i < 0 ? SLOWEST_E2E.length : i;
    };
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    poolOptions: { forks: { isolate: !unitOnly } },
    sequence: { sequencer: SlowestFirst },
    // Two workers even on two cores (vitest's default there is one). The unit files wait on child processes and
    // the disk as well as compute, and a second worker overlaps that (unisolated, under the same heavy load:
    // 107 s with two, 129 s with one). The e2e files (a run of them alone, as `npm test` makes) wait even more: a
    // Jupyter server, a kernel or a browser starting, PostgreSQL's fsyncs, a worker's heartbeat to lapse, polls of a
    // page; so three run side by side there.
    maxWorkers: e2eOnly ? Math.max(3, os.availableParallelism()) : Math.max(2, os.availableParallelism() - 1),
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
        // End-to-end: the real dataset, Jupyter kernel and browser, several files at a time. Each file has its own
        // temp folders, free ports and child processes (the render daemon is shared by design), so files side by
        // side only slow each other down. The files that press ■ mid-epoch or kill a worker mid-trial wait on what
        // they can observe (a page's outputs, a log line, a table row) with minutes of margin, so a busy neighbour
        // only slows them; they no longer run alone at the end, while the other core idled.
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], testTimeout: 20 * 60_000, hookTimeout: 10 * 60_000 },
      },
    ],
  },
});
