import { SeqstreamError } from '../../errors.js';
import { MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from './audioOptions.js';
import { bytesPerSample, MAX_CHANNELS, type PcmEncoding } from './pcmDecoder.js';
import { requireOptional } from './requireOptional.js';

interface WaveFileLike {
  container: string;
  fmt: { audioFormat: number; numChannels: number; sampleRate: number; bitsPerSample: number; blockAlign: number; subformat: number[] };
  data: { chunkSize: number; samples: Uint8Array };
}

/** A WAV file's sample data and the facts needed to decode it. */
export interface ParsedWav {
  encoding: PcmEncoding;
  channels: number;
  sampleRate: number;
  /** Whole sample frames only. */
  data: Uint8Array;
  /** Sample frames in `data`. */
  frames: number;
}

const FORMAT_NAMES: Record<number, string> = {
  1: 'PCM', 2: 'MS ADPCM', 3: 'IEEE float', 6: 'A-law', 7: 'mu-law', 17: 'IMA ADPCM', 85: 'MP3',
};

function fail(code: string, message: string, details: Record<string, unknown> = {}): never {
  throw new SeqstreamError(code, message, details);
}

/**
 * Parses a RIFF/RF64 WAV with `wavefile` and checks what it leaves unchecked: the sample
 * format must be 8/16/24/32-bit integer PCM or 32/64-bit float (plain or WAVE_FORMAT_EXTENSIBLE),
 * the block alignment must agree, and the data chunk must hold the bytes it declares.
 */
export function parseWav(bytes: Uint8Array, where: string, allowTruncated: boolean): ParsedWav {
  const { WaveFile } = requireOptional<{ WaveFile: new (b: Uint8Array) => WaveFileLike }>('wavefile', 'seqstream/adapters/audioFromWav');
  let wav: WaveFileLike;
  try {
    wav = new WaveFile(bytes);
  } catch (err) {
    fail('SEQ_AUDIO_WAV_HEADER', `${where}: not a readable WAV file (${(err as Error).message})`, { bytes: bytes.length });
  }
  if (wav.container !== 'RIFF' && wav.container !== 'RF64') {
    fail('SEQ_AUDIO_WAV_FORMAT', `${where}: ${wav.container} (big-endian) WAV is not supported; convert it to RIFF`, { container: wav.container });
  }
  const { fmt } = wav;
  const code = fmt.audioFormat === 0xfffe ? fmt.subformat?.[0] ?? -1 : fmt.audioFormat;
  const bits = fmt.bitsPerSample;
  let encoding: PcmEncoding | undefined;
  if (code === 1) encoding = ({ 8: 'u8', 16: 's16le', 24: 's24le', 32: 's32le' } as const)[bits as 8];
  else if (code === 3) encoding = ({ 32: 'f32le', 64: 'f64le' } as const)[bits as 32];
  if (!encoding) {
    const name = FORMAT_NAMES[code] ?? `format code ${code}`;
    fail(
      'SEQ_AUDIO_WAV_FORMAT',
      `${where}: ${name} with ${bits} bits per sample is not supported (supported: 8/16/24/32-bit PCM, 32/64-bit float)`,
      { audioFormat: code, bitsPerSample: bits },
    );
  }
  const channels = fmt.numChannels;
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    fail('SEQ_AUDIO_WAV_FORMAT', `${where}: ${channels} channels (supported: 1 to ${MAX_CHANNELS})`, { channels });
  }
  if (!Number.isInteger(fmt.sampleRate) || fmt.sampleRate < MIN_SAMPLE_RATE || fmt.sampleRate > MAX_SAMPLE_RATE) {
    fail('SEQ_AUDIO_WAV_FORMAT', `${where}: sample rate ${fmt.sampleRate} Hz (supported: ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE})`, { sampleRate: fmt.sampleRate });
  }
  const blockAlign = channels * bytesPerSample(encoding);
  if (fmt.blockAlign !== blockAlign) {
    fail('SEQ_AUDIO_WAV_HEADER', `${where}: block align ${fmt.blockAlign} does not match ${channels} channels of ${bits} bits (${blockAlign})`, { blockAlign: fmt.blockAlign });
  }
  const samples = wav.data.samples;
  const declared = wav.data.chunkSize;
  if (!allowTruncated && (samples.length < declared || samples.length % blockAlign !== 0)) {
    fail(
      'SEQ_AUDIO_WAV_TRUNCATED',
      `${where}: data chunk declares ${declared} bytes but holds ${samples.length}` +
        (samples.length % blockAlign !== 0 ? ` (not a whole number of ${blockAlign}-byte sample frames)` : '') +
        '; pass allowTruncated: true to read what is there',
      { declared, present: samples.length },
    );
  }
  const frames = Math.floor(samples.length / blockAlign);
  return { encoding, channels, sampleRate: fmt.sampleRate, data: samples.subarray(0, frames * blockAlign), frames };
}
