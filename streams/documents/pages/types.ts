// The shapes the pages step hands to the processor (docs: the LexiScan contract, "Pages to text").

/** Where a page's text came from. */
export type PageSource = 'text-layer' | 'ocr' | 'text-file' | 'image-ocr';

export interface PageText {
  /** 1-based page number. */
  page: number;
  text: string;
  source: PageSource;
  /** Mean word confidence of the OCR engine, 0..1; null for text that was not OCR'd. */
  ocrConfidence: number | null;
}

/** 'auto': OCR the pages without a real text layer; 'always': every page; 'never': no page. */
export type OcrMode = 'auto' | 'always' | 'never';
