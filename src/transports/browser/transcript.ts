/**
 * Splits transcript text into pieces whose `transcript` message always fits MAX_CONTROL_BYTES:
 * 500 UTF-16 code units escape to at most 3000 bytes of JSON (`\u001f` is 6 bytes for 1 unit; a
 * surrogate pair is 4 bytes for 2), leaving room for the rest of the message.
 */
export const TRANSCRIPT_PIECE_CHARS = 500;

/** Pieces of at most `pieceChars` code units, never splitting a surrogate pair; '' gives ['']. */
export function splitTranscript(text: string, pieceChars = TRANSCRIPT_PIECE_CHARS): string[] {
  if (text.length <= pieceChars) return [text];
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + pieceChars);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}
