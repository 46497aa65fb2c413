// The per-page verdict on a PDF text layer, and the assembly of pdfjs text items into lines.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { judgeTextLayer, NO_DRAWING, textFromItems, textLayerVerdictNeedsDrawing, textStatistics, type PageDrawing } from './text-layer.ts';

const vector: PageDrawing = { imageCoverage: 0, invisibleTextShare: 0, pathCount: 0 };
const scan: PageDrawing = { imageCoverage: 1, invisibleTextShare: 0, pathCount: 0 };
const ocrLayer: PageDrawing = { imageCoverage: 1, invisibleTextShare: 1, pathCount: 0 };
const CLAUSE = 'The Provider shall indemnify the Company against any loss arising out of a breach of this Agreement by the Provider, and the parties agree that such obligation survives the termination of this Agreement for a period of two (2) years.';

describe('judgeTextLayer', () => {
  it('contract prose is real', () => {
    assert.equal(judgeTextLayer(CLAUSE, vector).real, true);
  });

  it('tables of codes, dates, domains and [***] redactions are real (measured on CUAD)', () => {
    assert.equal(judgeTextLayer('PWM-5700-00431-SH 0.2MW\nTBD – Brookside 4 0.2MW\nDelaware001 0.2MW\nbruce.com 21-Jan-2019 AFI\nU.S. $1,250.00', vector).real, true);
    assert.equal(judgeTextLayer('*** *** ***\n[***] [***]\n***: ***\n----------------', vector).real, true);
  });

  it('glyph garbage from a font without a usable encoding is not', () => {
    const v = judgeTextLayer('#%&* @@!~ ^^]|{ }#$% &*(( ~!@# $%^&* ()_+ |}{ ":?>< ~!@#', vector);
    assert.equal(v.real, false);
    assert.match(v.why, /^not words/);
    assert.equal(judgeTextLayer('\ue001\ue002\ue003 \ue004\ue005 \ufffd\ufffd\ufffd agreement', vector).real, false);
  });

  it('a few characters over a page-covering image are a stamp on a scan', () => {
    assert.match(judgeTextLayer('CONFIDENTIAL ABC-000123', scan).why, /^a stamp over a scan/);
    assert.equal(judgeTextLayer('CONFIDENTIAL ABC-000123', vector).real, true);
  });

  it('an invisible OCR layer is kept when it reads as English, not when it is consonant soup or a shifted alphabet', () => {
    assert.equal(judgeTextLayer(CLAUSE, ocrLayer).real, true);
    const shifted = CLAUSE.replace(/[a-z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - 97 + 2) % 26) + 97));
    assert.equal(judgeTextLayer(shifted, vector).real, true, 'visible text is trusted: a shifted alphabet is still word-shaped');
    assert.match(judgeTextLayer(shifted, ocrLayer).why, /^invisible OCR layer that does not read as English/);
    assert.equal(judgeTextLayer('Tlp Prvdr shll ndmnfy thp Cmpny gnst ny lss rsng t f brch', ocrLayer).real, false);
  });

  it('no text: blank, a scan, or outlined text', () => {
    assert.deepEqual(judgeTextLayer('', vector), { real: true, why: 'blank page' });
    assert.equal(judgeTextLayer('  \n ', scan).real, false);
    assert.equal(judgeTextLayer('', { ...vector, pathCount: 2000 }).real, false);
  });

  it('the drawing is only looked at where it can change the verdict', () => {
    const prose = `${CLAUSE} ${CLAUSE}`;
    assert.equal(textLayerVerdictNeedsDrawing(prose), false);
    for (const drawing of [vector, scan, ocrLayer, { ...vector, pathCount: 5000 }]) assert.equal(judgeTextLayer(prose, drawing).real, judgeTextLayer(prose, NO_DRAWING).real);
    assert.equal(textLayerVerdictNeedsDrawing('CONFIDENTIAL ABC-000123'), true, 'short: a stamp?');
    assert.equal(textLayerVerdictNeedsDrawing('PWM-5700-00431-SH 0.2MW '.repeat(20)), true, 'a table: no function words');
  });

  it('statistics count characters without spaces and skip neutral tokens', () => {
    const s = textStatistics('the ____ Agreement [***] xqzt');
    assert.equal(s.chars, 25);
    assert.equal(s.plausibleShare, 12 / 16);
    assert.equal(s.functionWordShare, 1 / 3);
  });
});

describe('textFromItems', () => {
  const item = (str: string, x: number, y: number, width: number, hasEOL = false, size = 10) => ({ str, transform: [size, 0, 0, size, x, y], width, height: size, hasEOL });

  it('joins items on a baseline, breaks lines where it moves, and marks wide gaps as paragraph breaks', () => {
    const text = textFromItems([
      item('Section 1.', 72, 700, 50),
      item('Term', 130, 700, 20, true),
      item('', 72, 688, 0, true),
      item('The term is', 72, 688, 60),
      item('three years.', 72, 676, 60),
      item('2. Fees', 72, 640, 40),
    ]);
    assert.equal(text, 'Section 1. Term\nThe term is\nthree years.\n\n2. Fees');
  });

  it('adds no space where adjacent items touch (a word split into runs)', () => {
    assert.equal(textFromItems([item('Agree', 72, 700, 30), item('ment', 102, 700, 25)]), 'Agreement');
  });
});
