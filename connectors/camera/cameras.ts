// A camera process: a FrameSource, the real-time trigger loop (camera-line.ts), the Kafka sender,
// metrics with /metrics + /healthz + /readyz, progress lines with the achieved FPS per camera, and
// a summary at the end. Used by `streamscore camera simulate|folder`, the demo and the load test.
import { startHealthServer, type HealthServer } from '../../streams/runtime/health-server.ts';
import { runCameraLine, type CameraLineOptions, type CameraLineResult } from './camera-line.ts';
import { createCameraMetrics, type CameraMetrics } from './camera-metrics.ts';
import { FrameSender } from './frame-sender.ts';

/** The line's options (runCameras supplies the outlet, a Kafka sender, and the metrics), plus the process's own. */
export interface CamerasOptions extends Omit<CameraLineOptions, 'outlet' | 'metrics' | 'maxInFlight'> {
  brokers: string[];
  schemaRegistryUrl: string;
  /** Serve /metrics, /healthz, /readyz on this port (0: any free port); none when undefined. */
  metricsPort?: number;
  metricsHost?: string;
  /** Progress lines (default every 5 s); none when undefined. */
  progress?: (line: string) => void;
  progressEveryMs?: number;
  /** Called once the HTTP server listens. */
  onListening?: (port: number) => void;
}

export interface CameraSummary {
  seconds: number;
  ended: CameraLineResult['ended'];
  sent: number;
  dropped: number;
  sentMiB: number;
  cameras: { camera_id: string; captured: number; sent: number; fps: number; dropped: Record<string, number> }[];
}

export async function runCameras(o: CamerasOptions): Promise<CameraSummary> {
  let sender: FrameSender | null = null;
  const metrics: CameraMetrics = createCameraMetrics({ queuedBytes: () => sender?.pendingBytes ?? 0 });
  const sentPerCamera = new Map<string, number>(o.cameraIds.map((id) => [id, 0]));
  let sentBytes = 0;
  let failuresLogged = 0;
  sender = await FrameSender.start({
    brokers: o.brokers,
    schemaRegistryUrl: o.schemaRegistryUrl,
    clientId: `camera-${o.lineId}`,
    log: o.log,
    onSent: (frames, ms) => {
      metrics.sendDuration.observe(ms / 1000);
      for (const f of frames) {
        sentPerCamera.set(f.frame.camera_id, (sentPerCamera.get(f.frame.camera_id) ?? 0) + 1);
        metrics.sent.inc({ camera: f.frame.camera_id });
        sentBytes += f.value.length;
      }
      metrics.sentBytes.inc(frames.reduce((s, f) => s + f.value.length, 0));
    },
    onSendFailed: (frames, err) => {
      for (const f of frames) metrics.dropped.inc({ camera: f.frame.camera_id, reason: 'send-failed' });
      if (++failuresLogged <= 10 || failuresLogged % 100 === 0) o.log.warn({ frames: frames.length, err: err.message, failures: failuresLogged }, 'frames not sent (dropped; a camera does not store and forward)');
    },
  });
  let http: HealthServer | null = null;
  const s = sender;
  if (o.metricsPort !== undefined) {
    http = await startHealthServer({ port: o.metricsPort, host: o.metricsHost, registry: metrics.registry, isReady: () => s.healthy, logger: o.log });
    o.onListening?.(http.port);
  }
  const started = Date.now();
  let last = { at: started, sent: new Map(sentPerCamera) };
  const report = () => {
    const now = Date.now();
    const interval = (now - last.at) / 1000;
    const parts = o.cameraIds.map((id) => {
      const fps = ((sentPerCamera.get(id) ?? 0) - (last.sent.get(id) ?? 0)) / interval;
      metrics.fps.set({ camera: id }, fps);
      return `${id} ${fps.toFixed(1)} fps`;
    });
    last = { at: now, sent: new Map(sentPerCamera) };
    o.progress?.(`camera: ${((now - started) / 1000).toFixed(0)} s, ${total(sentPerCamera)} frames sent (${parts.join(', ')}), ${(sentBytes / 1048576).toFixed(1)} MiB, queue ${(s.pendingBytes / 1024).toFixed(0)} KiB${s.healthy ? '' : ', BROKER NOT TAKING FRAMES'}`);
  };
  const progressTimer = o.progress ? setInterval(report, o.progressEveryMs ?? 5_000) : null;
  try {
    const result = await runCameraLine({ ...o, outlet: s, metrics });
    await s.flushed();
    const dropped = await metrics.dropped.get();
    return {
      seconds: Math.round(result.seconds * 10) / 10,
      ended: result.ended,
      sent: total(sentPerCamera),
      dropped: dropped.values.reduce((n, v) => n + v.value, 0),
      sentMiB: Math.round((sentBytes / 1048576) * 10) / 10,
      cameras: result.cameras.map((c) => {
        const sent = sentPerCamera.get(c.camera_id) ?? 0;
        const byReason = Object.fromEntries(dropped.values.filter((v) => v.labels.camera === c.camera_id).map((v) => [String(v.labels.reason), v.value]));
        return { camera_id: c.camera_id, captured: c.captured, sent, fps: Math.round((sent / Math.max(result.seconds, 0.001)) * 10) / 10, dropped: byReason };
      }),
    };
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    await s.close();
    await http?.close();
  }
}

function total(m: Map<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}
