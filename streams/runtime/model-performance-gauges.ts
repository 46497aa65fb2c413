// Precision and recall of served model versions from delayed labels, for /metrics. A processor that
// joins labels to predictions (streams/maintenance-outcomes/) reports each tally it publishes here;
// every runtime registry (metrics.ts) reads these values when scraped. Process-wide because the
// handler that computes a tally has no registry of its own (HandlerContext carries none), and a
// tally is a fact about a model version, the same whichever registry shows it.
export interface ModelPerformanceValue {
  processor: string;
  model: string;
  version: string;
  /** Event-time day of the tally: only a tally at least as recent as the one shown replaces it. */
  day: string;
  precision: number | null;
  recall: number | null;
}

const latest = new Map<string, ModelPerformanceValue>();

/** Shows the tally of a model version, unless a later day of the same version is already shown. */
export function reportModelPerformance(v: ModelPerformanceValue): void {
  const id = `${v.processor}|${v.model}|${v.version}`;
  const shown = latest.get(id);
  if (shown && shown.day > v.day) return;
  latest.set(id, v);
}

export function modelPerformanceValues(): ModelPerformanceValue[] {
  return [...latest.values()];
}
