import { SeqstreamError, ModelFormatError } from '../errors.js';
import { readTokenizerJSON, requireText } from './internal/tokenizerJSON.js';
import { Vocabulary, type BuildVocabularyOptions, type TokenizerJSON, type VocabularyOptions } from './vocabulary.js';

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
 * import { CharTokenizer } from 'seqstream/cells';
 * const tok = CharTokenizer.fromText('hello world', { padToken: '<pad>' });
 * tok.encode('hold!'); // [ids of h, o, l, d, then 1 (= '<unk>') for '!']
 * tok.decode(tok.encode('hello')); // 'hello'
 * const same = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
 * ```
 */
export class CharTokenizer {
  readonly vocabulary: Vocabulary;
  readonly lowercase: boolean;

  constructor(vocab: readonly string[], options: CharTokenizerOptions = {}) {
    this.vocabulary = new Vocabulary(vocab, options);
    this.lowercase = options.lowercase ?? false;
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
    const j = readTokenizerJSON(json, 'char');
    try {
      return new CharTokenizer(j.vocab, { unknownToken: j.unknownToken, padToken: j.padToken, lowercase: j.lowercase });
    } catch (e) {
      if (e instanceof SeqstreamError) throw new ModelFormatError('SEQ_TOKENIZER_FORMAT', `Invalid tokenizer JSON: ${e.message}`, e.details as Record<string, unknown>);
      throw e;
    }
  }

  /** Number of ids (the `numEmbeddings` of the embedding that reads them). */
  get vocabSize(): number {
    return this.vocabulary.size;
  }

  /** Id of the unknown token. */
  get unknownId(): number {
    return this.vocabulary.unknownId;
  }

  /** Id of the pad token, or `null`. */
  get padId(): number | null {
    return this.vocabulary.padId;
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
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === this.vocabulary.padId) continue;
      s += this.vocabulary.token(ids[i]);
    }
    return s;
  }

  /** Plain JSON (format `seqstream-tokenizer`, version 1, kind `char`). */
  toJSON(): TokenizerJSON {
    const v = this.vocabulary;
    return { format: 'seqstream-tokenizer', version: 1, kind: 'char', vocab: [...v.tokens], unknownToken: v.unknownToken, padToken: v.padToken, lowercase: this.lowercase };
  }
}

function lowercase(s: string, on: boolean): string {
  return on ? s.toLowerCase() : s;
}
