// Types shared by the validation rules and their callers (the processor, the index, the API).

/**
 * An entity from the legal NER model (streams/documents/ner/ owns the producer of these).
 * start/end: JS string (UTF-16) offsets into the document text.
 */
export interface NerEntity { label: string; start: number; end: number; text: string; confidence: number }

/** An entity after the rules ran: its normalized value (null when none could be made) and its problems. */
export interface CheckedEntity {
  label: string;
  text: string;
  normalized: string | null;
  confidence: number;
  start: number;
  end: number;
  problems: string[]; // why a person should check it; empty when the rules trust it
  notes?: string[]; // assumptions made while normalising ("'$' assumed to be USD"); informational
}
