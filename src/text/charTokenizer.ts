import { requireText } from './internal/tokenizerJSON.js';
import { tokenizerFromJSON, VocabularyTokenizer } from './internal/vocabularyTokenizer.js';
import { Vocabulary, type BuildVocabularyOptions, type VocabularyOptions } from './vocabulary.js';

/** Options of {@link CharTokenizer.fromText}. */
export interface CharTokenizerBuildOptions extends BuildVocabularyOptions {
  /** Lower-case text before splitting (building and encoding). Default `false`. */
  lowercase?: boolean;
}

/** Options of the {@link CharTokenizer} constructor (a given vocabulary). */
export interface CharTokenizerOptions extends VocabularyOptions {
  /** Lower-case text before splitting. Default `false`. */
  lowercase?: boolean;
}

/**
 * Splits text into Unicode code points (not UTF-16 units, so an emoji is one token) and maps each
 * to an id in a fixed vocabulary; characters outside it get the unknown token's id. Grapheme
 * clusters made of several code points (flags, combining accents) become several tokens.
 *
 * Build the vocabulary from text ({@link CharTokenizer.fromText}: specials first — pad at 0 if
 * given, then unknown — then characters by falling frequency), or pass the one a model was trained
 * with (`new CharTokenizer(vocab, { unknownToken })`). `toJSON()`/`fromJSON()` round-trip it.
 *
 * @example
 * ```ts
 * import { CharTokenizer } from 'seqstream/text';
 * const tok = CharTokenizer.fromText('hello world', { padToken: '<pad>' });
 * tok.encode('hold!'); // [ids of h, o, l, d, then 1 (= '<unk>') for '!']
 * tok.decode(tok.encode('hello')); // 'hello'
 * const same = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
 * ```
 */
export class CharTokenizer extends VocabularyTokenizer {
  constructor(vocab: readonly string[], options: CharTokenizerOptions = {}) {
    super('char', vocab, options, false);
  }

  /** Builds the vocabulary from the characters of `text` (see the class summary for the order). */
  static fromText(text: string, options: CharTokenizerBuildOptions = {}): CharTokenizer {
    const lowercase = options.lowercase ?? false;
    const source = requireText(text);
    const v = Vocabulary.build(Array.from(lowercase ? source.toLowerCase() : source), options);
    return new CharTokenizer(v.tokens, { unknownToken: v.unknownToken, padToken: v.padToken, lowercase });
  }

  /** Loads {@link CharTokenizer.toJSON} output; a bad document throws `SEQ_TOKENIZER_FORMAT`. */
  static fromJSON(json: unknown): CharTokenizer {
    return tokenizerFromJSON(json, 'char', (j) => new CharTokenizer(j.vocab, { unknownToken: j.unknownToken, padToken: j.padToken, lowercase: j.lowercase }));
  }

  /** Text to ids, one per code point. A non-string throws `SEQ_INPUT_TYPE`. */
  encode(text: string): number[] {
    const s = requireText(text);
    const out: number[] = [];
    for (const ch of lowercase(s, this.lowercase)) out.push(this.vocabulary.id(ch));
    return out;
  }

  /** Ids to text (pad ids are skipped); an id outside the vocabulary throws `SEQ_TOKEN_RANGE`. */
  decode(ids: ArrayLike<number>): string {
    return this.tokensOf(ids).join('');
  }

}

function lowercase(s: string, on: boolean): string {
  return on ? s.toLowerCase() : s;
}
