import { Option, type Command } from 'commander';
import type { PcmEncoding } from '../../adapters/audioFromPcm.js';
import { audioSummaryLine, runAudioCommand } from '../audioCommand.js';
import { type CliContext, parseInteger, parseList, parseNumber, startBackend, UsageError, withBackendOption } from '../cliContext.js';
import { type ModelFlags, modelFromFlags, withModelOptions } from '../modelOptions.js';

interface AudioFlags extends ModelFlags {
  wav?: string;
  rate?: number;
  encoding?: PcmEncoding;
  channels?: number;
  features: string[];
  bufferSize?: number;
  hopSize?: number;
  pace?: 'fast' | 'realtime';
  speed?: number;
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
    .addOption(new Option('--pace <how>', 'with --wav: fast (as fast as it goes) or realtime (each frame when it would have been recorded)').choices(['fast', 'realtime']).default('fast'))
    .option('--speed <factor>', 'with --pace realtime: playback speed factor in (0, 1000] (default 1)', parseNumber(0, true))
    .addHelpText('after', '\nExample:\n  sox -d -t raw -r 16000 -e signed -b 16 -c 1 - | seqstream audio --rate 16000 --model m.json');
  withBackendOption(withModelOptions(cmd)).action(async (opts: AudioFlags) => {
    await startBackend(ctx, opts.backend);
    if (opts.speed !== undefined && opts.pace !== 'realtime') throw new UsageError('--speed needs --pace realtime');
    const summary = await runAudioCommand(
      {
        wav: opts.wav,
        sampleRate: opts.rate,
        encoding: opts.encoding,
        channels: opts.channels,
        features: opts.features,
        bufferSize: opts.bufferSize,
        hopSize: opts.hopSize,
        model: modelFromFlags(opts),
        pace: opts.wav || opts.pace === 'realtime' ? opts.pace : undefined,
        speed: opts.speed,
      },
      process.stdin,
      ctx.out,
    );
    ctx.err(audioSummaryLine(summary));
  });
}
