/**
 * The Plivo XML that answers a call by connecting it to our audio stream
 * (https://www.plivo.com/docs/voice/xml/the-stream-element):
 *
 *   <Response><Stream bidirectional="true" keepCallAlive="true"
 *     contentType="audio/x-mulaw;rate=8000" extraHeaders="…">wss://host/plivo/media</Stream></Response>
 *
 * μ-law 8 kHz is asked for explicitly (Plivo's default is L16 8 kHz) so a μ-law model gets the
 * caller's audio untouched. `keepCallAlive` makes the stream the only element that runs until the
 * socket closes. `extraHeaders` reach us in the `start` message; Plivo allows only letters and
 * digits in them (and `=`/`,` between pairs) and 512 bytes in all, so values are reduced to that.
 */

export const PLIVO_XML_CONTENT_TYPE = 'application/xml; charset=utf-8';
export const PLIVO_STREAM_CONTENT_TYPE = 'audio/x-mulaw;rate=8000';
const MAX_EXTRA_HEADERS_BYTES = 512;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** `k=v,k=v` with only letters and digits in names and values, cut to 512 bytes at a pair boundary. */
export function extraHeadersOf(parameters: Readonly<Record<string, string>>): string {
  let out = '';
  for (const [name, value] of Object.entries(parameters)) {
    const pair = `${name.replace(/[^A-Za-z0-9]/g, '')}=${value.replace(/[^A-Za-z0-9]/g, '')}`;
    if (pair.startsWith('=') || pair.endsWith('=')) continue;
    const next = out === '' ? pair : `${out},${pair}`;
    if (next.length > MAX_EXTRA_HEADERS_BYTES) break;
    out = next;
  }
  return out;
}

/** The call's webhook fields worth passing to the stream (CallUUID, From, To, Direction). */
export function pickPlivoParameters(fields: Readonly<Record<string, string>>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of ['CallUUID', 'From', 'To', 'Direction']) {
    const value = fields[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

export function plivoStreamXml(streamUrl: string, parameters: Readonly<Record<string, string>> = {}): string {
  const extra = extraHeadersOf(parameters);
  const extraAttr = extra === '' ? '' : ` extraHeaders="${escapeXml(extra)}"`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response>' +
    `<Stream bidirectional="true" keepCallAlive="true" contentType="${PLIVO_STREAM_CONTENT_TYPE}"${extraAttr}>${escapeXml(streamUrl)}</Stream>` +
    '</Response>'
  );
}
