import { Option, type Command } from 'commander';
import type { PcmEncoding } from '../../adapters/audioFromPcm.js';
import { runAudioCommand } from '../audioCommand.js';
import { type CliContext, parseInteger, parseList, parseNumber, startBackend, withBackendOption } from '../cliContext.js';
import { type ModelFlags, modelFromFlags, withModelOptions } from '../modelOptions.js';

interface AudioFlags extends ModelFlags {
  wav?: string;
  rate?: number;
  encoding?: PcmEncoding;
  channels?: number;
  features: string[];
  bufferSize?: number;
  hopSize?: number;
  backend?: string;
}

/**
 * `seqstream audio`: audio → Meyda features per frame [→ model], one NDJSON line per frame.
 *
 * @example
 * ```ts
 * registerAudio(program, ctx); // sox -d -t raw -r 16000 -e signed -b 16 -c 1 - | seqstream audio --rate 16000
 * ```
 */
export function registerAudio(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('audio')
    .description('audio -> Meyda features per frame [-> model], NDJSON per frame')
    .option('--wav <file>', 'a WAV file (otherwise raw PCM on stdin with --rate)')
    .option('--rate <hz>', 'sample rate of raw PCM on stdin', parseNumber(0, true))
    .addOption(new Option('--encoding <name>', 'raw PCM sample encoding').choices(['s16le', 's32le', 'f32le', 'u8']))
    .option('--channels <n>', 'raw PCM channel count', parseInteger(1))
    .option('--features <list>', 'Meyda features, comma-separated', parseList, ['mfcc'])
    .option('--buffer-size <n>', 'analysis frame length in samples (default 512)', parseInteger(1))
    .option('--hop-size <n>', 'samples between frames (default: the buffer size)', parseInteger(1))
    .addHelpText('after', '\nExample:\n  sox -d -t raw -r 16000 -e signed -b 16 -c 1 - | seqstream audio --rate 16000 --model m.json');
  withBackendOption(withModelOptions(cmd)).action(async (opts: AudioFlags) => {
    await startBackend(ctx, opts.backend);
    await runAudioCommand(
      {
        wav: opts.wav,
        sampleRate: opts.rate,
        encoding: opts.encoding,
        channels: opts.channels,
        features: opts.features,
        bufferSize: opts.bufferSize,
        hopSize: opts.hopSize,
        model: modelFromFlags(opts),
      },
      process.stdin,
      ctx.out,
    );
  });
}
