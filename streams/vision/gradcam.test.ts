// The Grad-CAM the stream publishes is computed inside the ONNX graph, in the inference pass itself.
// This holds it equal, to 1e-4 after normalisation (max = 1), to PyTorch autograd's Grad-CAM of
// the same network on committed frames (models/vision/fixtures/gradcam/, written by the lead's
// export with torch.autograd.grad), through the stream's own decode, input and model-run code.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileModelSource, type LoadedModel } from '../runtime/models.ts';
import { decodeFrame, modelInput } from './frame-image.ts';
import { runModel } from './inspect-frame.ts';
import { visionModelSpec } from './model.ts';
import { normaliseHeatmap } from './postprocess.ts';

const FIXTURE_DIR = new URL('../../models/vision/fixtures/gradcam/', import.meta.url).pathname;

interface GradcamFixture {
  model_name: string;
  model_version: string;
  method: string;
  tolerance: number;
  frames: { file: string; defect: boolean; defect_logit: number; grid: [number, number]; gradcam_autograd_normalised: number[] }[];
}

const fixture = JSON.parse(readFileSync(join(FIXTURE_DIR, 'gradcam.json'), 'utf8')) as GradcamFixture;
const spec = visionModelSpec();

describe('Grad-CAM from the inference pass equals autograd Grad-CAM', () => {
  let model: LoadedModel;
  before(async () => {
    model = await new FileModelSource().load(spec, { intraOpThreads: 1 });
  });
  after(() => model?.close());

  it('the fixture belongs to the committed model and asks for 1e-4', () => {
    // The lead regenerates the fixture with every model; a stale one would compare two networks.
    assert.deepEqual([fixture.model_name, fixture.model_version], [spec.name, spec.version], 'gradcam.json was made for another model: regenerate it (models/vision)');
    assert.ok(fixture.tolerance <= 1e-4);
    assert.ok(fixture.frames.length >= 3 && fixture.frames.some((f) => f.defect) && fixture.frames.some((f) => !f.defect), 'the fixture needs defect and template frames');
  });

  for (const frame of fixture.frames) {
    it(`${frame.file} (${frame.defect ? 'defect' : 'template'})`, async () => {
      const decoded = await decodeFrame(readFileSync(join(FIXTURE_DIR, frame.file)), { encoding: 'PNG' });
      const { outputs } = await runModel(model, await modelInput(decoded, spec.meta.input));
      assert.deepEqual([outputs.rows, outputs.cols], frame.grid);
      assert.ok(Math.abs(outputs.defectLogit - frame.defect_logit) <= 1e-3, `defect_logit ${outputs.defectLogit} vs torch ${frame.defect_logit}: the fixture was made from other weights than pcb-qc.onnx (regenerate it from the exported checkpoint)`);
      const ours = normaliseHeatmap(outputs.gradcam);
      const theirs = frame.gradcam_autograd_normalised;
      assert.equal(ours.length, theirs.length);
      assert.equal(Math.max(...theirs), 1, 'the fixture map is not normalised to max 1');
      // A flat or empty map would pass trivially: the fixture must have structure to compare.
      assert.ok(theirs.filter((v) => v > 0.05).length > 10, 'fixture Grad-CAM has almost no support');
      let worst = 0;
      let at = -1;
      for (let k = 0; k < ours.length; k++) {
        const d = Math.abs(ours[k] - theirs[k]);
        if (d > worst) [worst, at] = [d, k];
      }
      assert.ok(worst <= fixture.tolerance, `max |difference| ${worst.toExponential(2)} at cell (${Math.floor(at / frame.grid[1])}, ${at % frame.grid[1]}): ours ${ours[at]}, autograd ${theirs[at]}`);
    });
  }
});
