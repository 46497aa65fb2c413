// `streamscore vision inspect IMAGE... [--json] [--heatmaps DIR] [--model DIR]`: VisionSpec's model
// and post-processing on image files, without a stack (streams/vision/inspect.ts).
import { INSPECT_USAGE, runInspect } from '../streams/vision/inspect.ts';

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'inspect') return runInspect(rest);
  if (sub === 'live') return (await import('./live-view.ts')).run(rest);
  process.stderr.write(sub === undefined || sub === '--help' || sub === '-h' ? INSPECT_USAGE : `streamscore vision: unknown subcommand ${JSON.stringify(sub)}\n\n${INSPECT_USAGE}`);
  return sub === '--help' || sub === '-h' ? 0 : 2;
}
