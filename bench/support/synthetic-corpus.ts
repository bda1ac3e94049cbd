import { seededRandom } from '#libs/retrieval/seeded-random';

/**
 * Deterministic synthetic text for the retrieval benchmark: pseudo-words built from syllables, grouped into topics,
 * so chunks about one topic share vocabulary (as real documents do) and queries have true neighbours.
 */

const ONSETS = ['b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'st', 'tr', 'pl'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou'];

export interface SyntheticCorpusOptions {
  topics: number;
  wordsPerTopic: number;
  commonWords: number;
  seed?: number;
}

export class SyntheticCorpus {
  private readonly topicWords: string[][];
  private readonly commonWords: string[];
  private readonly random: () => number;

  constructor(options: SyntheticCorpusOptions) {
    this.random = seededRandom(options.seed ?? 42);
    const words = this.distinctWords(options.topics * options.wordsPerTopic + options.commonWords);
    this.topicWords = Array.from({ length: options.topics }, (_, topic) =>
      words.slice(topic * options.wordsPerTopic, (topic + 1) * options.wordsPerTopic),
    );
    this.commonWords = words.slice(options.topics * options.wordsPerTopic);
  }

  get topics(): number {
    return this.topicWords.length;
  }

  /** About `words` words: 60 % from the topic's vocabulary, the rest common words. */
  chunk(topic: number, words = 60): string {
    const out: string[] = [];
    for (let i = 0; i < words; i++) {
      out.push(this.random() < 0.6 ? this.pick(this.topicWords[topic % this.topics]!) : this.pick(this.commonWords));
    }
    return out.join(' ');
  }

  /** A short query: a few topic words and one common word. */
  query(topic: number): string {
    const words = [this.pick(this.topicWords[topic % this.topics]!), this.pick(this.topicWords[topic % this.topics]!)];
    words.push(this.pick(this.topicWords[topic % this.topics]!), this.pick(this.commonWords));
    return words.join(' ');
  }

  randomTopic(): number {
    return Math.floor(this.random() * this.topics);
  }

  private pick(words: string[]): string {
    return words[Math.floor(this.random() * words.length)]!;
  }

  private distinctWords(count: number): string[] {
    const seen = new Set<string>();
    while (seen.size < count) {
      const syllables = 2 + Math.floor(this.random() * 2);
      let word = '';
      for (let s = 0; s < syllables; s++) word += this.pick(ONSETS) + this.pick(VOWELS);
      seen.add(word);
    }
    return [...seen];
  }
}
