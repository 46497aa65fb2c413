// The cameras' Prometheus metrics (one registry per camera process), served on /metrics next to
// /healthz and /readyz (ready = the broker takes frames).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type DropReason = 'late' | 'busy' | 'queue-full' | 'send-failed' | 'unusable';

export interface CameraMetrics {
  registry: Registry;
  captured: Counter<'camera'>;
  sent: Counter<'camera'>;
  dropped: Counter<'camera' | 'reason'>;
  sentBytes: Counter;
  sendDuration: Histogram;
  captureDuration: Histogram;
  queuedBytes: Gauge;
  fps: Gauge<'camera'>;
}

export function createCameraMetrics(options: { defaultMetrics?: boolean; queuedBytes?: () => number } = {}): CameraMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const queued = options.queuedBytes ?? (() => 0);
  return {
    registry,
    captured: new Counter({ name: 'streamscore_camera_frames_captured_total', help: 'Frames taken by each camera (encoded and offered to the sender)', labelNames: ['camera'] as const, registers }),
    sent: new Counter({ name: 'streamscore_camera_frames_sent_total', help: 'Frames acknowledged by the broker, per camera', labelNames: ['camera'] as const, registers }),
    dropped: new Counter({
      name: 'streamscore_camera_frames_dropped_total',
      help: 'Frames lost: late (the trigger passed while the process was behind), busy (captures in flight at their bound), queue-full, send-failed, unusable (unreadable or oversized file)',
      labelNames: ['camera', 'reason'] as const,
      registers,
    }),
    sentBytes: new Counter({ name: 'streamscore_camera_sent_bytes_total', help: 'Bytes of encoded frame records acknowledged by the broker', registers }),
    sendDuration: new Histogram({ name: 'streamscore_camera_send_duration_seconds', help: 'Time for one produce request of frames to be acknowledged', buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers }),
    captureDuration: new Histogram({ name: 'streamscore_camera_capture_duration_seconds', help: 'Time to produce one frame image (decode, jitter, encode; or read a file)', buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1], registers }),
    queuedBytes: new Gauge({ name: 'streamscore_camera_queued_bytes', help: 'Bytes of frames waiting for the broker', registers, collect() { this.set(queued()); } }),
    fps: new Gauge({ name: 'streamscore_camera_fps', help: 'Frames per second sent by each camera over the last progress interval', labelNames: ['camera'] as const, registers }),
  };
}
