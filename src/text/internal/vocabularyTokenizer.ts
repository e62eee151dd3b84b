import { ModelFormatError, SeqstreamError } from '../../errors.js';
import { Vocabulary, type TokenizerJSON, type VocabularyOptions } from '../vocabulary.js';
import { readTokenizerJSON } from './tokenizerJSON.js';
import { booleanOption } from '../../options.js';

/** What `CharTokenizer` and `WordTokenizer` share: a vocabulary, a lower-case flag and their JSON. */
export abstract class VocabularyTokenizer {
  readonly vocabulary: Vocabulary;
  readonly lowercase: boolean;

  protected constructor(
    private readonly kind: 'char' | 'word',
    vocab: readonly string[],
    options: VocabularyOptions & { lowercase?: boolean },
    defaultLowercase: boolean,
  ) {
    this.vocabulary = new Vocabulary(vocab, options);
    this.lowercase = booleanOption('lowercase', options.lowercase, defaultLowercase);
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

  /** Plain JSON (format `seqstream-tokenizer`, version 1, with this tokenizer's `kind`). */
  toJSON(): TokenizerJSON {
    const v = this.vocabulary;
    return { format: 'seqstream-tokenizer', version: 1, kind: this.kind, vocab: [...v.tokens], unknownToken: v.unknownToken, padToken: v.padToken, lowercase: this.lowercase };
  }

  /** The tokens of `ids`, pad ids skipped; an id outside the vocabulary throws `SEQ_TOKEN_RANGE`. */
  protected tokensOf(ids: ArrayLike<number>): string[] {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) if (ids[i] !== this.vocabulary.padId) out.push(this.vocabulary.token(ids[i]));
    return out;
  }
}

/** Reads a serialised tokenizer of `kind` and builds it; any problem is `SEQ_TOKENIZER_FORMAT`. */
export function tokenizerFromJSON<T>(json: unknown, kind: 'char' | 'word', build: (j: TokenizerJSON) => T): T {
  const j = readTokenizerJSON(json, kind);
  try {
    return build(j);
  } catch (e) {
    if (e instanceof SeqstreamError) throw new ModelFormatError('SEQ_TOKENIZER_FORMAT', `Invalid tokenizer JSON: ${e.message}`, e.details as Record<string, unknown>);
    throw e;
  }
}
