import { describe, InvalidInputError, InvalidOptionError } from '../errors.js';

/** Options of the {@link Vocabulary} constructor. */
export interface VocabularyOptions {
  /** Token that stands for anything not in the vocabulary. Default `'<unk>'`. */
  unknownToken?: string;
  /** Optional padding token, given id 0 when the vocabulary is built from text. Default none. */
  padToken?: string | null;
}

/** Options of {@link Vocabulary.build}. */
export interface BuildVocabularyOptions extends VocabularyOptions {
  /** Keep at most this many tokens, specials included (most frequent first). Default 65536. */
  maxSize?: number;
  /** Drop tokens seen fewer times than this. Default 1. */
  minCount?: number;
}

const DEFAULT_UNKNOWN = '<unk>';
const DEFAULT_MAX_VOCAB = 65536;

/** Serialised tokenizer, see the tokenizers' `toJSON()`. */
export interface TokenizerJSON {
  format: 'seqstream-tokenizer';
  version: 1;
  kind: 'char' | 'word';
  vocab: string[];
  unknownToken: string;
  padToken: string | null;
  lowercase: boolean;
}

/**
 * An immutable token <-> id table with an unknown token (and optionally a pad token), used by
 * {@link CharTokenizer} and {@link WordTokenizer}.
 *
 * @example
 * ```ts
 * import { Vocabulary } from 'seqstream/text';
 * const v = Vocabulary.build(['b', 'a', 'b'], { padToken: '<pad>' }); // ['<pad>', '<unk>', 'b', 'a']
 * v.id('b');   // 2
 * v.id('zz');  // 1 (unknown)
 * v.token(3);  // 'a'
 * ```
 */
export class Vocabulary {
  readonly tokens: readonly string[];
  readonly unknownToken: string;
  readonly unknownId: number;
  readonly padToken: string | null;
  readonly padId: number | null;
  private readonly ids: Map<string, number>;

  constructor(tokens: readonly string[], options: VocabularyOptions = {}) {
    const unknownToken = options.unknownToken ?? DEFAULT_UNKNOWN;
    const padToken = options.padToken ?? null;
    if (typeof unknownToken !== 'string' || unknownToken.length === 0) throw new InvalidOptionError('unknownToken', 'a non-empty string', unknownToken);
    if (padToken !== null && (typeof padToken !== 'string' || padToken.length === 0)) throw new InvalidOptionError('padToken', 'a non-empty string or null', padToken);
    if (!Array.isArray(tokens)) throw new InvalidOptionError('vocab', 'an array of strings', tokens);
    this.ids = new Map();
    tokens.forEach((t, i) => {
      if (typeof t !== 'string') throw new InvalidOptionError(`vocab[${i}]`, 'a string', t);
      if (this.ids.has(t)) throw new InvalidOptionError(`vocab[${i}]`, 'a token not already in the vocabulary', t);
      this.ids.set(t, i);
    });
    const unknownId = this.ids.get(unknownToken);
    if (unknownId === undefined) throw new InvalidOptionError('vocab', `a list containing the unknown token ${JSON.stringify(unknownToken)}`, tokens);
    const padId = padToken === null ? null : this.ids.get(padToken);
    if (padId === undefined) throw new InvalidOptionError('vocab', `a list containing the pad token ${JSON.stringify(padToken)}`, tokens);
    this.tokens = Object.freeze([...tokens]);
    this.unknownToken = unknownToken;
    this.unknownId = unknownId;
    this.padToken = padToken;
    this.padId = padId;
  }

  /**
   * Builds a vocabulary from tokens: specials first (pad, then unknown), then tokens by falling
   * count, ties in first-seen order, so the same text always gives the same ids.
   */
  static build(tokens: Iterable<string>, options: BuildVocabularyOptions = {}): Vocabulary {
    const maxSize = options.maxSize ?? DEFAULT_MAX_VOCAB;
    const minCount = options.minCount ?? 1;
    if (!Number.isInteger(maxSize) || maxSize < 2) throw new InvalidOptionError('maxSize', 'an integer >= 2', maxSize);
    if (!Number.isInteger(minCount) || minCount < 1) throw new InvalidOptionError('minCount', 'a positive integer', minCount);
    const unknownToken = options.unknownToken ?? DEFAULT_UNKNOWN;
    const padToken = options.padToken ?? null;
    const specials = padToken === null ? [unknownToken] : [padToken, unknownToken];
    const counts = new Map<string, number>();
    for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
    // Map iteration is insertion order, and Array.prototype.sort is stable: ties keep first-seen order.
    const ranked = [...counts.entries()]
      .filter(([t, n]) => n >= minCount && !specials.includes(t))
      .sort((a, b) => b[1] - a[1])
      .map(([t]) => t);
    return new Vocabulary([...specials, ...ranked.slice(0, Math.max(0, maxSize - specials.length))], { unknownToken, padToken });
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Id of a token, or the unknown id. */
  id(token: string): number {
    return this.ids.get(token) ?? this.unknownId;
  }

  /** True when the token has its own id. */
  has(token: string): boolean {
    return this.ids.has(token);
  }

  /** Token of an id; throws `SEQ_TOKEN_RANGE` for an id outside the vocabulary. */
  token(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) {
      throw new InvalidInputError('SEQ_TOKEN_RANGE', `Token id must be an integer in [0, ${this.tokens.length - 1}], received ${describe(id)}`, { id: describe(id), size: this.tokens.length });
    }
    return this.tokens[id];
  }
}
