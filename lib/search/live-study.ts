// The intermediate-values figure redrawn in place below a notebook cell while its study runs (what optuna-dashboard
// shows live): after each recorded epoch or finished trial the study is read back and drawn again in the shared
// Chromium, one render at a time; epochs that arrive during a render are drawn together by the next one.
import { intermediateValuesFigure } from "../figures/study-history";
import { renderFigure } from "../figures/render/chromium";
import { kernelTslab } from "../io/tslab";
import type { Objective } from "./core/objective";
import type { SearchSpace } from "./core/space";
import type { TrialRecord } from "./core/study";
import { studyPlotData } from "./analysis/study-view";

/** The part of tslab's Display the view uses; each call replaces what it showed. */
export interface StudyDisplay {
  svg(s: string): void;
}

export interface LiveStudyOptions {
  /** Where to draw; default tslab's newDisplay() in a kernel (none outside one: the view then draws nothing). */
  newDisplay?: () => StudyDisplay;
  /** Draws the figure; default the shared Chromium's SVG export. */
  render?: (fig: ReturnType<typeof intermediateValuesFigure>) => Promise<string>;
  /** Least ms between the starts of two renders; default 1000. */
  gapMs?: number;
}

/** A live view: `changed()` after each epoch or trial end; `finish()` draws the last state and waits for it. */
export interface LiveStudyView {
  readonly shown: boolean;
  changed(): void;
  finish(): Promise<void>;
  /** Renders so far (for tests and the log). */
  readonly renders: number;
}

export function liveStudyView(
  load: () => Promise<readonly TrialRecord[]>,
  space: SearchSpace,
  objective: Objective,
  opts: LiveStudyOptions = {},
): LiveStudyView {
  const newDisplay = opts.newDisplay ?? kernelTslab()?.newDisplay;
  const render = opts.render ?? (async (fig) => (await renderFigure(fig, { format: "svg" })) as string);
  const gap = opts.gapMs ?? 1000;
  let display: StudyDisplay | undefined;
  let dirty = false;
  let loop: Promise<void> | undefined;
  let last = Number.NEGATIVE_INFINITY;
  let failed = false;
  const view = {
    shown: newDisplay !== undefined,
    renders: 0,
    changed() {
      if (!newDisplay || failed) return;
      dirty = true;
      loop ??= drawLoop().finally(() => {
        loop = undefined;
      });
    },
    async finish() {
      last = Number.NEGATIVE_INFINITY;
      await loop;
      if (newDisplay && !failed) {
        dirty = true;
        await drawLoop();
      }
    },
  };
  async function drawLoop(): Promise<void> {
    while (dirty && !failed) {
      const wait = gap - (Date.now() - last);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      dirty = false;
      last = Date.now();
      try {
        const svg = await render(intermediateValuesFigure(studyPlotData(await load(), space, objective)));
        display ??= newDisplay!();
        display.svg(svg);
        view.renders++;
      } catch {
        // The study matters more than its picture: a failed render ends the live view, not the search.
        failed = true;
      }
    }
  }
  return view;
}
