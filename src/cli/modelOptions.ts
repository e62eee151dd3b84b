import { Option, type Command } from 'commander';
import type { RecurrentModel } from '../cells/model.js';
import type { HeadActivation } from '../cells/types.js';
import { loadModel } from '../adapters/loadModel.js';

/** The flags {@link withModelOptions} adds, as commander parses them. */
export interface ModelFlags {
  model?: string;
  headActivation?: HeadActivation;
  nonlinearity?: 'tanh' | 'relu';
}

/**
 * Adds `--model FILE`, `--head-activation` and `--nonlinearity` to `cmd`.
 *
 * @example
 * ```ts
 * withModelOptions(program.command('stream'), true);
 * ```
 */
export function withModelOptions(cmd: Command, required = false): Command {
  const model = new Option('--model <file>', 'seqstream model JSON, a PyTorch state dict (.json or .safetensors), or an export_torch.py fixture');
  if (required) model.makeOptionMandatory();
  return cmd
    .addOption(model)
    .addOption(new Option('--head-activation <name>', 'head activation the weights cannot say').choices(['identity', 'sigmoid', 'softmax']))
    .addOption(new Option('--nonlinearity <name>', 'RNN nonlinearity the weights cannot say').choices(['tanh', 'relu']));
}

/**
 * Loads the model the flags name, or `undefined` without `--model`.
 *
 * @example
 * ```ts
 * const model = modelFromFlags(cmd.opts());
 * ```
 */
export function modelFromFlags(flags: ModelFlags): RecurrentModel | undefined {
  if (!flags.model) return undefined;
  return loadModel(flags.model, { headActivation: flags.headActivation, nonlinearity: flags.nonlinearity });
}
