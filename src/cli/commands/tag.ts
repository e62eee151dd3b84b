import { Option, type Command } from 'commander';
import type { PcmEncoding } from '../../adapters/internal/pcmDecoder.js';
import { type CliContext, parseInteger, UsageError } from '../cliContext.js';
import { runTagCommand } from '../tagCommand.js';

interface TagFlags {
  wav?: string;
  rate?: number;
  encoding: PcmEncoding;
  channels: number;
  model?: string;
  frames?: boolean;
  allowTruncated?: boolean;
}

/**
 * `seqstream tag`: tags audio (voice activity with the shipped model by default), NDJSON
 * segments on stdout as soon as each is decided.
 *
 * @example
 * ```ts
 * registerTag(program, ctx); // sox -d -t raw -r 16000 -e signed -b 16 -c 1 - | seqstream tag --rate 16000
 * ```
 */
export function registerTag(program: Command, ctx: CliContext): void {
  program
    .command('tag')
    .description('tag audio (default: voice activity) -> NDJSON segments {"start","end","label"}')
    .option('--wav <file>', 'a WAV file (otherwise raw PCM on stdin with --rate)')
    .option('--rate <hz>', 'sample rate of raw PCM on stdin (resampled to the model rate)', parseInteger(1))
    .addOption(new Option('--encoding <name>', 'raw PCM sample encoding').choices(['s16le', 's16be', 's24le', 's32le', 'f32le', 'f64le', 'u8', 's8']).default('s16le'))
    .option('--channels <n>', 'raw PCM channel count (averaged to mono)', parseInteger(1), 1)
    .option('--model <file>', 'a tagger file from `seqstream train` (default: the shipped voice-activity model)')
    .option('--frames', 'also print {"time": t, "<label>": p} per frame')
    .option('--allow-truncated', 'read what a truncated WAV holds instead of failing')
    .addHelpText('after', '\nExamples:\n  seqstream tag --wav meeting.wav\n  sox -d -t raw -r 16000 -e signed -b 16 -c 1 - | seqstream tag --rate 16000')
    .action(async (opts: TagFlags) => {
      if (!opts.wav && opts.rate === undefined) throw new UsageError('give --wav FILE, or raw PCM on stdin with --rate HZ');
      if (opts.wav && opts.rate !== undefined) throw new UsageError('--rate is for raw PCM on stdin; a WAV file names its own rate');
      const { seconds, segments } = await runTagCommand(
        { wav: opts.wav, rate: opts.rate, encoding: opts.encoding, channels: opts.channels, model: opts.model, frames: opts.frames ?? false, allowTruncated: opts.allowTruncated ?? false },
        process.stdin,
        ctx.out,
      );
      ctx.err(`${segments} segment(s) in ${seconds.toFixed(2)} s of audio`);
    });
}
