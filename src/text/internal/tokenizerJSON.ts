import { describe, InvalidInputError, ModelFormatError } from '../../errors.js';
import type { TokenizerJSON } from '../vocabulary.js';

/** Checks the text argument of `encode`. */
export function requireText(text: unknown): string {
  if (typeof text !== 'string') throw new InvalidInputError('SEQ_INPUT_TYPE', `Input 'text' must be a string, received ${describe(text)}`, { received: describe(text) });
  return text;
}

/** Reads and checks a serialised tokenizer of the given kind. */
export function readTokenizerJSON(json: unknown, kind: 'char' | 'word'): TokenizerJSON {
  const j = json as Partial<TokenizerJSON> | null;
  if (!j || typeof j !== 'object' || j.format !== 'seqstream-tokenizer') {
    throw new ModelFormatError('SEQ_TOKENIZER_FORMAT', "Not a seqstream tokenizer: expected format 'seqstream-tokenizer'", {});
  }
  if (j.version !== 1) throw new ModelFormatError('SEQ_TOKENIZER_FORMAT', `Unsupported tokenizer format version ${String(j.version)} (this build reads 1)`, { version: j.version });
  if (j.kind !== kind) throw new ModelFormatError('SEQ_TOKENIZER_FORMAT', `Expected a '${kind}' tokenizer, received kind ${describe(j.kind)}`, { kind: j.kind });
  if (!Array.isArray(j.vocab) || typeof j.unknownToken !== 'string') {
    throw new ModelFormatError('SEQ_TOKENIZER_FORMAT', 'Tokenizer JSON needs a vocab array and an unknownToken string', {});
  }
  return { format: 'seqstream-tokenizer', version: 1, kind, vocab: j.vocab, unknownToken: j.unknownToken, padToken: j.padToken ?? null, lowercase: j.lowercase === true };
}
