// The live view's Prometheus metrics: results and frames taken in, undecodable records skipped,
// browsers connected, events a slow browser missed, picture memory, and the line's rolling stats
// as the page shows them (so an alert can watch the defect rate too).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventStream } from './event-stream.ts';
import type { ImageCache } from './image-cache.ts';
import type { RollingStats } from './rolling-stats.ts';

export function createLiveViewMetrics(o: { frames: ImageCache; overlays: ImageCache; stream: EventStream; stats: RollingStats }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let skippedSeen = 0;
  new Counter({
    name: 'streamscore_live_view_events_skipped_total',
    help: 'Result events not sent to a browser because its connection was still full (it sees the next one)',
    registers,
    collect() {
      if (o.stream.skipped > skippedSeen) this.inc(o.stream.skipped - skippedSeen);
      skippedSeen = o.stream.skipped;
    },
  });
  new Gauge({ name: 'streamscore_live_view_clients', help: 'Browsers connected to the event stream', registers, collect() { this.set(o.stream.size); } });
  new Gauge({
    name: 'streamscore_live_view_cache_bytes',
    help: 'Bytes of pictures kept in memory, by cache (frame, overlay)',
    labelNames: ['cache'] as const,
    registers,
    collect() {
      this.set({ cache: 'frame' }, o.frames.bytes);
      this.set({ cache: 'overlay' }, o.overlays.bytes);
    },
  });
  new Gauge({
    name: 'streamscore_live_view_defect_rate',
    help: 'Share of DEFECT verdicts over the last minute (NaN before any result)',
    registers,
    collect() {
      this.set(o.stats.snapshot(Date.now()).defect_rate ?? Number.NaN);
    },
  });
  new Gauge({ name: 'streamscore_live_view_results_per_second', help: 'Results received per second over the last 5 s', registers, collect() { this.set(o.stats.snapshot(Date.now()).fps); } });
  return {
    registry,
    resultsIn: new Counter({ name: 'streamscore_live_view_results_total', help: 'QC results received, by verdict', labelNames: ['verdict'] as const, registers }),
    duplicates: new Counter({ name: 'streamscore_live_view_duplicate_results_total', help: 'Results dropped because their frame_id was already shown (re-delivered by the at-least-once processor)', registers }),
    framesIn: new Counter({ name: 'streamscore_live_view_frames_total', help: 'Frames received (kept for results without a heatmap)', registers }),
    undecodable: new Counter({ name: 'streamscore_live_view_undecodable_total', help: 'Records skipped because they do not decode, by topic', labelNames: ['topic'] as const, registers }),
  };
}
