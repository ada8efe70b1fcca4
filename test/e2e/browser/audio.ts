/**
 * Test audio for the browser end-to-end tests: tones, silence, concatenation and a RIFF/WAVE
 * writer (PCM16 mono), so the fake browser can speak into the gateway and Chromium's fake capture
 * device can be fed a file (`--use-file-for-fake-audio-capture`).
 */

/** `ms` of a sine tone at `rate` (a speech stand-in: voiced, loud enough for any VAD). */
export function tone(rate: number, ms: number, frequencyHz = 440, amplitude = 8000): Int16Array {
  const samples = new Int16Array(Math.round((ms * rate) / 1000));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / rate));
  return samples;
}

/** `ms` of digital silence at `rate`. */
export function silence(rate: number, ms: number): Int16Array {
  return new Int16Array(Math.round((ms * rate) / 1000));
}

/** The parts one after the other. */
export function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Scales `samples` so their peak is `peak` (PCM16 units); silence stays silence. */
export function normalise(samples: Int16Array, peak: number): Int16Array {
  let max = 0;
  for (const s of samples) max = Math.max(max, Math.abs(s));
  if (max === 0) return samples.slice();
  const gain = peak / max;
  return Int16Array.from(samples, (s) => Math.max(-32768, Math.min(32767, Math.round(s * gain))));
}

/** A canonical 44-byte-header WAV file: PCM16 little-endian, mono. */
export function wavFile(samples: Int16Array, rate: number): Buffer {
  const data = samples.length * 2;
  const out = Buffer.alloc(44 + data);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + data, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16); // fmt chunk size
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28); // byte rate
  out.writeUInt16LE(2, 32); // block align
  out.writeUInt16LE(16, 34); // bits per sample
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] ?? 0, 44 + 2 * i);
  return out;
}
