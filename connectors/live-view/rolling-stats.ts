// What the line operator reads at a glance, computed once on the server for every browser: the
// defect rate over the last minute, frames inspected per second (the line's and each camera's, over
// the last 5 s), and capture -> verdict latency (p50/p99 over the minute). Pure; time is passed in.

export interface InspectedFrame {
  camera_id: string;
  verdict: 'PASS' | 'DEFECT';
  captured_at: number;
  inspected_at: number;
  /** When the live view received the result (its own clock). */
  arrived_at: number;
}

export interface StatsSnapshot {
  window_s: number;
  inspected: number;
  defects: number;
  /** Share of DEFECT verdicts over the window; null before any result. */
  defect_rate: number | null;
  fps: number;
  cameras: Record<string, { fps: number; inspected: number; defects: number }>;
  latency_ms: { p50: number | null; p99: number | null };
  total: number;
  total_defects: number;
}

export class RollingStats {
  private readonly windowMs: number;
  private readonly fpsWindowMs: number;
  private readonly frames: InspectedFrame[] = [];
  private head = 0;
  private total = 0;
  private totalDefects = 0;
  private firstArrival: number | null = null;

  constructor(o: { windowMs?: number; fpsWindowMs?: number } = {}) {
    this.windowMs = o.windowMs ?? 60_000;
    this.fpsWindowMs = o.fpsWindowMs ?? 5_000;
  }

  add(f: InspectedFrame): void {
    this.frames.push(f);
    this.total++;
    if (f.verdict === 'DEFECT') this.totalDefects++;
    this.firstArrival ??= f.arrived_at;
    this.prune(f.arrived_at);
  }

  snapshot(now: number): StatsSnapshot {
    this.prune(now);
    const live = this.frames.slice(this.head);
    // Before a full FPS window has passed, divide by the time since the first result (at least 1 s).
    const fpsSpan = Math.max(1_000, Math.min(this.fpsWindowMs, now - (this.firstArrival ?? now)));
    const cameras: StatsSnapshot['cameras'] = {};
    let defects = 0;
    let recent = 0;
    for (const f of live) {
      const c = (cameras[f.camera_id] ??= { fps: 0, inspected: 0, defects: 0 });
      c.inspected++;
      if (f.verdict === 'DEFECT') {
        c.defects++;
        defects++;
      }
      if (now - f.arrived_at < fpsSpan) {
        c.fps += 1000 / fpsSpan;
        recent++;
      }
    }
    const latencies = live.map((f) => f.inspected_at - f.captured_at).sort((a, b) => a - b);
    const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : null);
    for (const c of Object.values(cameras)) c.fps = round1(c.fps);
    return {
      window_s: this.windowMs / 1000,
      inspected: live.length,
      defects,
      defect_rate: live.length ? defects / live.length : null,
      fps: round1((recent * 1000) / fpsSpan),
      cameras,
      latency_ms: { p50: pct(0.5), p99: pct(0.99) },
      total: this.total,
      total_defects: this.totalDefects,
    };
  }

  private prune(now: number): void {
    while (this.head < this.frames.length && now - this.frames[this.head].arrived_at >= this.windowMs) this.head++;
    // Compact now and then instead of shifting on every result.
    if (this.head > 4096 && this.head * 2 > this.frames.length) {
      this.frames.splice(0, this.head);
      this.head = 0;
    }
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
