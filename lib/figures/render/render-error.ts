import { UserError } from "../../errors/user-error";
/** Thrown when a figure cannot be rendered: no Chromium, a bad option, or plotly rejecting the figure. */
export class RenderError extends UserError {
  override name = "RenderError";
}

/** `value` (or `fallback` when undefined) if it is a positive finite number; otherwise a RenderError naming `what`. */
export function positive(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!(v > 0) || !Number.isFinite(v)) throw new RenderError(`${what} must be a positive number, got ${value}`);
  return v;
}
