// What a PDF page draws, from pdfjs' operator list: how much of the page images cover, how much of
// its text is invisible (render mode 3: an OCR layer laid over a scan) and how many paths it builds.
// Follows the current transformation matrix through save/restore, `cm` and form XObjects, so an
// image's area is its unit square mapped to page space.
import { pdfjs } from './pdf-document.ts';
import type { PageDrawing } from './text-layer.ts';

type Matrix = [number, number, number, number, number, number];
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];
const multiply = (m: Matrix, n: number[]): Matrix => [
  n[0] * m[0] + n[1] * m[2],
  n[0] * m[1] + n[1] * m[3],
  n[2] * m[0] + n[3] * m[2],
  n[2] * m[1] + n[3] * m[3],
  n[4] * m[0] + n[5] * m[2] + m[4],
  n[4] * m[1] + n[5] * m[3] + m[5],
];
const area = (m: Matrix) => Math.abs(m[0] * m[3] - m[1] * m[2]);

const OPS = pdfjs.OPS;
const TEXT_SHOWING = new Set<number>([OPS.showText, OPS.showSpacedText, OPS.nextLineShowText, OPS.nextLineSetSpacingShowText]);
const INVISIBLE_MODES = new Set([3, 7]);

export function pageDrawing(operatorList: { fnArray: number[]; argsArray: unknown[][] }, pageArea: number): PageDrawing {
  let ctm: Matrix = IDENTITY;
  let textMode = 0;
  const stack: { ctm: Matrix; textMode: number }[] = [];
  let imageArea = 0;
  let textOps = 0;
  let invisibleTextOps = 0;
  let pathCount = 0;
  const { fnArray, argsArray } = operatorList;
  for (let i = 0; i < fnArray.length; i++) {
    const fn = fnArray[i];
    const args = argsArray[i] ?? [];
    switch (fn) {
      case OPS.save:
        stack.push({ ctm, textMode });
        break;
      case OPS.restore:
        ({ ctm, textMode } = stack.pop() ?? { ctm, textMode });
        break;
      case OPS.transform:
        ctm = multiply(ctm, args as number[]);
        break;
      case OPS.paintFormXObjectBegin:
        stack.push({ ctm, textMode });
        if (Array.isArray(args[0]) && args[0].length === 6) ctm = multiply(ctm, args[0] as number[]);
        break;
      case OPS.paintFormXObjectEnd:
        ({ ctm, textMode } = stack.pop() ?? { ctm, textMode });
        break;
      case OPS.setTextRenderingMode:
        textMode = Number(args[0]);
        break;
      case OPS.paintImageXObject:
      case OPS.paintInlineImageXObject:
      case OPS.paintImageMaskXObject:
        imageArea += area(ctm);
        break;
      case OPS.paintImageXObjectRepeat: {
        const [, scaleX, scaleY, positions] = args as [unknown, number, number, number[]];
        imageArea += area(ctm) * Math.abs(scaleX * scaleY) * ((positions?.length ?? 0) / 2);
        break;
      }
      case OPS.constructPath:
        pathCount++;
        break;
      default:
        if (TEXT_SHOWING.has(fn)) {
          textOps++;
          if (INVISIBLE_MODES.has(textMode)) invisibleTextOps++;
        }
    }
  }
  return {
    imageCoverage: pageArea > 0 ? Math.min(1, imageArea / pageArea) : 0,
    invisibleTextShare: textOps === 0 ? 0 : invisibleTextOps / textOps,
    pathCount,
  };
}
