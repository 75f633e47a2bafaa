// A search whose disk fills up mid-study (a real ENOSPC: a tmpfs in a private mount namespace, `unshare -m`, root
// only), then run again once there is room: the first run stops with one sentence naming the full disk (exit 1), no
// trial is marked failed for it, and the re-run completes every trial exactly once with all its epochs. The disk is
// filled when the first trial's trial.json says completed (an observable state, not a time).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { searchArgs } from "./helpers/search";
import { ROOT, run } from "./spawn";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-search-full-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const canMount = process.getuid?.() === 0 && fs.existsSync("/usr/bin/unshare");
const TRIALS = 3;
const EPOCHS = 2;

const SCRIPT = `
set -u
D="$1"; OUT="$2"; shift 2
mount -t tmpfs -o size=300m tmpfs "$D" || exit 9
"$@" --out "$D/s" > "$OUT/run1.out" 2> "$OUT/run1.err" &
pid=$!
until grep -qs '"completed"' "$D/s/trials/trial-000/trial.json"; do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
dd if=/dev/zero of="$D/filler" bs=64k 2>/dev/null
wait $pid; echo $? > "$OUT/rc1"
node -e 'const fs=require("fs"),p=require("path"),t=p.join(process.argv[1],"s","trials");console.log(JSON.stringify(fs.readdirSync(t).filter(d=>!d.endsWith(".log")).map(d=>{try{return JSON.parse(fs.readFileSync(p.join(t,d,"trial.json"),"utf8")).status}catch{return "none"}})))' "$D" > "$OUT/statuses1"
rm -f "$D/filler"
"$@" --out "$D/s" > "$OUT/run2.out" 2> "$OUT/run2.err"; echo $? > "$OUT/rc2"
cp "$D/s/trials.csv" "$OUT/" 2>/dev/null
for t in "$D"/s/trials/*/; do echo "$(basename "$t") $(($(wc -l < "$t/history.csv") - 1))"; done > "$OUT/epochs"
find "$D/s" -path "$D/s/study.pgdata" -prune -o \\( -name '*.tmp' -o -name '*.old' \\) -print > "$OUT/temps"
`;

describe.skipIf(!canMount)("a search on a disk that fills up", () => {
  it("stops with one disk-full sentence (exit 1), marks no trial failed, and the re-run completes every trial once", async () => {
    const space = path.join(tmp, "space.json");
    fs.writeFileSync(space, JSON.stringify({ learningRate: { type: "float", min: 0.01, max: 0.1, sampling: "log" } }));
    const mnt = fs.mkdtempSync(path.join(tmp, "mnt-"));
    const out = fs.mkdtempSync(path.join(tmp, "out-"));
    // --out is the script's: on the small disk.
    const search = [process.execPath, ...searchArgs({ space, maxTrials: TRIALS, maxEpochs: EPOCHS })];
    const r = await run("unshare", ["-m", "bash", "-c", SCRIPT, "bash", mnt, out, ...search], { cwd: ROOT, timeout: 1_200_000 });
    expect(r.status, r.stderr).toBe(0);
    const read = (f: string) => fs.readFileSync(path.join(out, f), "utf8");
    expect(read("rc1").trim(), read("run1.err")).toBe("1");
    expect(read("run1.err")).toMatch(
      /disk full while writing \/\S+ \([\d.]+ MB free left on that file system\).*re-run the same command to resume the study\n$/,
    );
    expect(
      read("run1.err")
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("fashion-ann:")),
    ).toHaveLength(1);
    expect(read("run1.err")).not.toMatch(/\n\s+at |This is a bug/);
    expect(JSON.parse(read("statuses1"))).not.toContain("failed");
    expect(read("rc2").trim(), read("run2.out") + read("run2.err")).toBe("0");
    const [header, ...rows] = read("trials.csv").trim().split("\n");
    const cols = header!.split(",");
    expect(rows.map((row) => row.split(",")[cols.indexOf("trial")]).sort()).toEqual(["trial-000", "trial-001", "trial-002"]);
    for (const row of rows) expect(row.split(",")[cols.indexOf("status")], row).toBe("completed");
    expect(read("epochs")).toBe("trial-000 2\ntrial-001 2\ntrial-002 2\n");
    expect(read("temps")).toBe("");
  }, 1_300_000);
});
