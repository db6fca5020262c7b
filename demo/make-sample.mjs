// The demo's media sample (demo/build-site.sh): a few seconds of tones as a WAV file (16-bit PCM, mono), made here
// rather than committed: the published site lists it in its signed manifest, so visitors can serve it to each other,
// and the demo plays it from whichever source its worker used.
//
//   node demo/make-sample.mjs <out.wav> [seconds, default 12]
import { writeFileSync } from 'node:fs';

const [out, secondsText = '12'] = process.argv.slice(2);
if (!out) throw new Error('usage: make-sample.mjs <out.wav> [seconds]');
const rate = 22050;
const samples = Math.round(Number(secondsText) * rate);
const notes = [262, 330, 392, 523, 392, 330]; // C E G C' G E, a quarter second each, round and round
const data = Buffer.alloc(samples * 2);
for (let i = 0; i < samples; i++) {
  const t = i / rate;
  const note = notes[Math.floor(t * 4) % notes.length];
  const within = (t * 4) % 1; // soft start and end of each note
  const envelope = Math.min(1, within * 20) * Math.min(1, (1 - within) * 8);
  data.writeInt16LE(Math.round(Math.sin(2 * Math.PI * note * t) * envelope * 9000), i * 2);
}
const header = Buffer.alloc(44);
header.write('RIFF', 0);
header.writeUInt32LE(36 + data.length, 4);
header.write('WAVEfmt ', 8);
header.writeUInt32LE(16, 16); // fmt chunk size
header.writeUInt16LE(1, 20); // PCM
header.writeUInt16LE(1, 22); // mono
header.writeUInt32LE(rate, 24);
header.writeUInt32LE(rate * 2, 28); // bytes per second
header.writeUInt16LE(2, 32); // bytes per frame
header.writeUInt16LE(16, 34); // bits per sample
header.write('data', 36);
header.writeUInt32LE(data.length, 40);
writeFileSync(out, Buffer.concat([header, data]));
