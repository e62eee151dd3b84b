export { CharTokenizer, type CharTokenizerOptions, type CharTokenizerBuildOptions } from './charTokenizer.js';
export { WordTokenizer, DEFAULT_WORD_PATTERN, type WordTokenizerOptions, type WordTokenizerBuildOptions } from './wordTokenizer.js';
export { Vocabulary, type TokenizerJSON, type VocabularyOptions, type BuildVocabularyOptions } from './vocabulary.js';
export { Embedding, type EmbeddingOptions, type EmbeddingLoadOptions, type EmbeddingJSON } from './embedding.js';
