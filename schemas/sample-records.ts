// Hand-written sample messages, one set per schema, for tests here and in the pipelines.
// They are typed with the generated types and checked against the .avsc files by
// schemas.test.ts, so a drift between schemas, codegen and samples fails one or the other.
// Each schema has a full sample (every optional field set) and a minimal one (all null).
import type {
  BillingEvent,
  CameraFrame,
  ChurnPrediction,
  DeadLetter,
  DriftAlert,
  DocumentUpload,
  ExtractedEntities,
  MaintenanceAlert,
  ModelLifecycleEvent,
  ModelPerformance,
  MaintenancePrediction,
  QcResult,
  SensorReading,
  FailureEvent,
} from './generated/types.ts';

const T0 = Date.UTC(2025, 2, 14, 8, 30, 0); // 2025-03-14T08:30:00Z
const DAY = 86_400_000;

export const sampleSensorReading: SensorReading = {
  arm_id: 'arm-07',
  sensor: 'VIBRATION',
  value: 4.18,
  unit: 'mm/s',
  event_time: T0,
  gateway_id: 'gw-plant1-03',
  plant_id: 'plant-1',
  sequence: 918_273,
  quality: 'GOOD',
  channel: null,
  settings: null,
};

export const sampleMaintenancePrediction: MaintenancePrediction = {
  arm_id: 'arm-07',
  event_time: T0,
  scored_at: T0 + 120,
  failure_probability: 0.83,
  model_name: 'arm-failure-gbm',
  model_version: '2025.03.1',
  horizon_hours: 24,
};

export const sampleMaintenanceAlert: MaintenanceAlert = {
  alert_id: 'alert-arm-07-1741941000000',
  arm_id: 'arm-07',
  raised_at: T0 + 150,
  cleared_at: null,
  event_time: T0,
  failure_probability: 0.83,
  threshold: 0.7,
  model_name: 'arm-failure-gbm',
  model_version: '2025.03.1',
  state: 'RAISED',
  explanation: [
    { feature: 'vibration_rms_1h', value: 4.1, contribution: 0.31, description: 'Vibration RMS over the last hour' },
    { feature: 'temperature_max_1h', value: 71.5, contribution: 0.12, description: 'Peak motor temperature over the last hour' },
  ],
  summary: 'arm-07: 83% failure risk in 24 h, driven by high vibration (4.1 mm/s RMS) and motor temperature.',
};

export const sampleDocumentUpload: DocumentUpload = {
  document_id: 'doc-5f2a',
  filename: 'supply-agreement.pdf',
  content_type: 'application/pdf',
  size_bytes: 9,
  sha256: 'a6b4e5f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9',
  uploaded_at: T0,
  source: 'upload-api',
  content: Buffer.from('%PDF-1.7\n'),
  blob_uri: null,
};

export const sampleExtractedEntities: ExtractedEntities = {
  document_id: 'doc-5f2a',
  model_name: 'contract-ner',
  model_version: '1.4.0',
  extracted_at: T0 + 4_000,
  ocr_used: true,
  pages: 12,
  entities: [
    { label: 'PARTY', text: 'Acme Robotics GmbH', normalized: 'Acme Robotics GmbH', confidence: 0.97, page: 1, start_offset: 120, end_offset: 138, problems: [] },
    { label: 'EFFECTIVE_DATE', text: '1 April 2025', normalized: '2025-04-01', confidence: 0.91, page: 1, start_offset: 402, end_offset: 414, problems: [] },
    { label: 'AMOUNT', text: 'EUR 1.250,00', normalized: '1250.00 EUR', confidence: 0.64, page: 3, start_offset: 77, end_offset: 89, problems: ['low confidence 0.64 < 0.70'] },
  ],
  needs_review: true,
  validation_errors: ['GOVERNING_LAW missing'],
  contract_type: 'supply',
  contract_type_confidence: 0.88,
  page_sources: [
    { page: 1, source: 'text-layer', ocr_confidence: null },
    { page: 2, source: 'ocr', ocr_confidence: 0.93 },
  ],
  sha256: 'a6b4e5f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9',
  text_blob_uri: 'blob:sha256:0d1e2f3a4b5c6d7e8f9a6b4e5f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c',
};

export const sampleCameraFrame: CameraFrame = {
  frame_id: 'frame-cam2-000451',
  camera_id: 'cam-2',
  line_id: 'line-a',
  captured_at: T0,
  width: 1920,
  height: 1080,
  encoding: 'JPEG',
  image: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xd9]),
  template_id: 'bracket-v3',
};

export const sampleQcResult: QcResult = {
  frame_id: 'frame-cam2-000451',
  camera_id: 'cam-2',
  captured_at: T0,
  inspected_at: T0 + 85,
  verdict: 'DEFECT',
  defect_probability: 0.92,
  boxes: [{ x: 640, y: 212, width: 48, height: 30, score: 0.88, defect_class: 'scratch' }],
  heatmap_png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  heatmap_peak: { x: 662.5, y: 226.75 },
  model_name: 'bracket-qc-resnet',
  model_version: '3.0.2',
  latency_ms: 41.7,
};

export const sampleBillingEvent: BillingEvent = {
  event_id: 'evt-88123',
  user_id: 'user-4411',
  event_time: T0,
  event_type: 'PAYMENT',
  call_duration_s: null,
  data_mb: null,
  amount: 39.99,
  currency: 'EUR',
  plan: 'unlimited-50',
  complaint_category: null,
  late_payment: true,
  payment_method: 'electronic-check',
};

export const sampleChurnPrediction: ChurnPrediction = {
  user_id: 'user-4411',
  score_date: Math.floor(T0 / DAY),
  churn_probability: 0.41,
  model_name: 'churn-xgb',
  model_version: '7',
  scored_at: T0 + 3_600_000,
  segment: 'consumer-postpaid',
  high_value: true,
  top_reasons: ['2 late payments in 90 days', 'network complaint last week'],
};

export const sampleDeadLetter: DeadLetter = {
  original_key: Buffer.from('arm-07'),
  // Schema-registry framing (magic byte 0, schema id 7) followed by a truncated Avro body.
  original_value: Buffer.from([0x00, 0x00, 0x00, 0x00, 0x07, 0x0c, 0x61]),
  original_headers: { traceparent: Buffer.from('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01') },
  original_timestamp: T0,
  source_topic: 'factory.sensor-readings.v1',
  source_partition: 4,
  source_offset: 1_234_567,
  stage: 'DECODE',
  error_class: 'SchemaDecodeError',
  error_message: 'truncated buffer',
  processor: 'sensor-validator',
  failed_at: T0 + 10,
  attempt: 1,
  original_value_size: 7,
  original_value_sha256: '39516ac74b94b8062044408c741d87500ac2998cf050332f57fd9f5a50e29532',
  truncated: [],
};

/** Samples per schema file (path relative to schemas/): full first, then minimal. */
export const sampleFailureEvent: FailureEvent = {
  arm_id: 'arm-07',
  plant_id: 'plant-1',
  kind: 'FAILURE',
  failure_time: T0 + 3 * DAY,
  mode: 'bearing-wear',
  repaired_at: T0 + 3 * DAY + 6 * 3_600_000,
  source: 'cmms-export',
};

export const SAMPLE_RECORDS: Record<string, object[]> = {
  'factory/failure-event.avsc': [sampleFailureEvent, { ...sampleFailureEvent, kind: 'MAINTENANCE', mode: null, repaired_at: null, source: 'technician-app' }],
  'factory/sensor-reading.avsc': [
    sampleSensorReading,
    { ...sampleSensorReading, quality: null },
    // v2: a channel its plant profile declares, with the operating settings of the sample.
    { ...sampleSensorReading, sensor: 'OTHER', channel: 't50', value: 1_402.3, unit: 'degR', settings: [35.0, 0.84, 100.0] },
  ],
  'factory/maintenance-prediction.avsc': [sampleMaintenancePrediction],
  'factory/maintenance-alert.avsc': [
    sampleMaintenanceAlert,
    { ...sampleMaintenanceAlert, state: 'CLEARED', cleared_at: T0 + 7_200_000, explanation: [] } satisfies MaintenanceAlert,
  ],
  'docs/document-upload.avsc': [
    sampleDocumentUpload,
    { ...sampleDocumentUpload, content: null, blob_uri: 's3://streamscore-docs/doc-5f2a.pdf' } satisfies DocumentUpload,
  ],
  'docs/extracted-entities.avsc': [
    sampleExtractedEntities,
    { ...sampleExtractedEntities, entities: [], needs_review: false, validation_errors: [] } satisfies ExtractedEntities,
  ],
  'vision/camera-frame.avsc': [sampleCameraFrame, { ...sampleCameraFrame, encoding: 'PNG', template_id: null } satisfies CameraFrame],
  'vision/qc-result.avsc': [
    sampleQcResult,
    { ...sampleQcResult, verdict: 'PASS', defect_probability: 0.03, boxes: [], heatmap_png: null, heatmap_peak: null } satisfies QcResult,
  ],
  'telecom/billing-event.avsc': [
    sampleBillingEvent,
    {
      ...sampleBillingEvent,
      event_type: 'CALL',
      call_duration_s: 184.5,
      amount: null,
      currency: null,
      plan: null,
      late_payment: false,
    } satisfies BillingEvent,
  ],
  'telecom/churn-prediction.avsc': [
    sampleChurnPrediction,
    { ...sampleChurnPrediction, segment: null, high_value: false, top_reasons: null } satisfies ChurnPrediction,
  ],
  'models/drift-alert.avsc': [
    { alert_id: 'maintenance-scorer/arm-failure-lgbm/2026.12.01-abc1234/temperature_mean_1h/PSI/1767225600000', processor: 'maintenance-scorer', model_name: 'arm-failure-lgbm', model_version: '2026.12.01-abc1234', feature: 'temperature_mean_1h', statistic: 'PSI', state: 'RAISED', value: 0.41, threshold: 0.2, p_value: null, p_threshold: null, consecutive_windows: 2, window_start: 1767225600000, window_end: 1767229199000, window_records: 1200, reference_records: 1727000, detected_at: 1767229201000 },
    { alert_id: 'maintenance-scorer/arm-failure-lgbm/2026.12.01-abc1234/prediction/KS/1767225600000', processor: 'maintenance-scorer', model_name: 'arm-failure-lgbm', model_version: '2026.12.01-abc1234', feature: 'prediction', statistic: 'KS', state: 'CLEARED', value: 0.04, threshold: 0.1, p_value: 0.31, p_threshold: 0.000023, consecutive_windows: 0, window_start: 1767229200000, window_end: 1767232799000, window_records: 1180, reference_records: 1727000, detected_at: 1767232801000 },
  ] satisfies DriftAlert[],
  'models/model-lifecycle-event.avsc': [
    { event_id: 'arm-failure-lgbm/3/PROMOTED/2', event: 'PROMOTED', model_name: 'arm-failure-lgbm', registry_version: '3', model_version: '2026.12.06-abc1234', alias: 'champion', previous_version: '1', actor: 'jdoe', reason: 'retrained on December readings', gates: [{ name: 'signature', ok: true, detail: 'matches the processor' }, { name: 'evaluation', ok: true, detail: 'pr_auc 0.86 >= 0.85 - 0.01' }, { name: 'card', ok: true, detail: 'MODEL_CARD.md names 2026.12.06-abc1234' }], rule: null, numbers: { candidate: 0.86, champion: 0.85, margin: 0.01 }, occurred_at: 1767225600000 },
    { event_id: 'arm-failure-lgbm/4/REGISTERED/1', event: 'REGISTERED', model_name: 'arm-failure-lgbm', registry_version: '4', model_version: null, alias: null, previous_version: null, actor: 'streamscore models register', reason: null, gates: [], rule: null, numbers: {}, occurred_at: 1767225600000 },
  ] satisfies ModelLifecycleEvent[],
  'models/model-performance.avsc': [
    { model_name: 'arm-failure-lgbm', model_version: '2026.12.01-abc1234', processor: 'maintenance-outcomes', day: '2026-01-01', label_source: 'factory.failure-events.v1', horizon_ms: 86_400_000, threshold: null, true_positives: 3, false_positives: 1, false_negatives: 1, labels_caught: 2, pending: 2, precision: 0.75, recall: 2 / 3, computed_at: 1767225600000 },
    { model_name: 'churn-30d-rf', model_version: '2026.11.29-37ef010', processor: 'churn-evaluate', day: '2026-06-30', label_source: 'lake: BillingEvent CANCELLATION', horizon_ms: 30 * 86_400_000, threshold: 0.24, true_positives: 0, false_positives: 0, false_negatives: 0, labels_caught: 0, pending: 0, precision: null, recall: null, computed_at: 1767225600000 },
  ] satisfies ModelPerformance[],
  'runtime/dead-letter.avsc': [sampleDeadLetter, { ...sampleDeadLetter, original_key: null, original_value: null, original_headers: {}, original_value_size: null, original_value_sha256: null } satisfies DeadLetter],
};
