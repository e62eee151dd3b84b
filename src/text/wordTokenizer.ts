import { requireText } from './internal/tokenizerJSON.js';
import { tokenizerFromJSON, VocabularyTokenizer } from './internal/vocabularyTokenizer.js';
import { Vocabulary, type BuildVocabularyOptions, type VocabularyOptions } from './vocabulary.js';

/**
 * Default word pattern: runs of letters/digits (with inner apostrophes, so "don't" is one word)
 * or any single other non-space character (so punctuation is its own token).
 */
export const DEFAULT_WORD_PATTERN = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu;

/** Options of {@link WordTokenizer.fromText}. */
export interface WordTokenizerBuildOptions extends BuildVocabularyOptions {
  /** Lower-case text before splitting. Default `true`. */
  lowercase?: boolean;
}

/** Options of the {@link WordTokenizer} constructor (a given vocabulary). */
export interface WordTokenizerOptions extends VocabularyOptions {
  /** Lower-case text before splitting. Default `true`. */
  lowercase?: boolean;
}

/**
 * Splits text into words and punctuation ({@link DEFAULT_WORD_PATTERN}, Unicode-aware) and maps
 * each to an id; words outside the vocabulary get the unknown token's id. Lower-cases by default.
 * Build the vocabulary from a corpus with {@link WordTokenizer.fromText} (specials first — pad at 0
 * if given, then unknown — then words by falling frequency; `maxSize` and `minCount` bound it), or
 * pass a trained model's vocabulary to the constructor. `toJSON()`/`fromJSON()` round-trip it.
 *
 * @example
 * ```ts
 * import { WordTokenizer } from 'seqstream/text';
 * const tok = WordTokenizer.fromText('the cat sat on the mat.', { maxSize: 1000 });
 * tok.tokenize('The dog sat!'); // ['the', 'dog', 'sat', '!']
 * tok.encode('The dog sat!');   // [id('the'), 0 (= '<unk>'), id('sat'), 0]
 * ```
 */
export class WordTokenizer extends VocabularyTokenizer {
  constructor(vocab: readonly string[], options: WordTokenizerOptions = {}) {
    super('word', vocab, options, true);
  }

  /** Builds the vocabulary from the words of `text` (see the class summary for the order). */
  static fromText(text: string, options: WordTokenizerBuildOptions = {}): WordTokenizer {
    const lowercase = options.lowercase ?? true;
    const v = Vocabulary.build(split(requireText(text), lowercase), options);
    return new WordTokenizer(v.tokens, { unknownToken: v.unknownToken, padToken: v.padToken, lowercase });
  }

  /** Loads {@link WordTokenizer.toJSON} output; a bad document throws `SEQ_TOKENIZER_FORMAT`. */
  static fromJSON(json: unknown): WordTokenizer {
    return tokenizerFromJSON(json, 'word', (j) => new WordTokenizer(j.vocab, { unknownToken: j.unknownToken, padToken: j.padToken, lowercase: j.lowercase }));
  }

  /** Text to tokens (words and punctuation), lower-cased if the tokenizer does. */
  tokenize(text: string): string[] {
    return split(requireText(text), this.lowercase);
  }

  /** Text to ids. A non-string throws `SEQ_INPUT_TYPE`. */
  encode(text: string): number[] {
    return this.tokenize(text).map((t) => this.vocabulary.id(t));
  }

  /** Ids to text joined by single spaces (pad ids skipped); an id outside the vocabulary throws `SEQ_TOKEN_RANGE`. */
  decode(ids: ArrayLike<number>): string {
    return this.tokensOf(ids).join(' ');
  }

}

function split(text: string, lowercase: boolean): string[] {
  return (lowercase ? text.toLowerCase() : text).match(DEFAULT_WORD_PATTERN) ?? [];
}
