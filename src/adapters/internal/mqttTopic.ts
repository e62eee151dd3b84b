import { InvalidOptionError } from '../../errors.js';

/** A compiled MQTT subscription pattern: `match(topic)` returns the wildcard captures, or null. */
export interface TopicPattern {
  readonly pattern: string;
  readonly hasWildcards: boolean;
  match(topic: string): string[] | null;
}

/**
 * Compiles an MQTT topic filter (`+` one level, `#` the rest, last). Invalid filters throw
 * `SEQ_INVALID_OPTION` at creation. A `$share/<group>/` prefix is matched on the filter after it.
 */
export function compileTopic(pattern: string, option = 'topics'): TopicPattern {
  if (typeof pattern !== 'string' || pattern.length === 0) throw new InvalidOptionError(option, 'a non-empty MQTT topic filter', pattern);
  let filter = pattern;
  const share = /^\$share\/[^/+#]+\//.exec(filter);
  if (share) filter = filter.slice(share[0].length);
  const levels = filter.split('/');
  levels.forEach((level, i) => {
    const bad = (level.includes('+') && level !== '+') || (level.includes('#') && (level !== '#' || i !== levels.length - 1));
    if (bad) throw new InvalidOptionError(option, "an MQTT topic filter ('+' a whole level, '#' a whole last level)", pattern);
  });
  const hasWildcards = levels.some((l) => l === '+' || l === '#');
  return {
    pattern,
    hasWildcards,
    match(topic: string): string[] | null {
      const parts = topic.split('/');
      const captures: string[] = [];
      for (let i = 0; i < levels.length; i++) {
        const level = levels[i];
        if (level === '#') {
          // MQTT: '#' does not match topics starting with '$' at the first level.
          if (i === 0 && topic.startsWith('$')) return null;
          captures.push(parts.slice(i).join('/'));
          return captures;
        }
        if (i >= parts.length) return null;
        if (level === '+') {
          if (i === 0 && parts[0].startsWith('$')) return null;
          captures.push(parts[i]);
        } else if (level !== parts[i]) return null;
      }
      return parts.length === levels.length ? captures : null;
    },
  };
}
