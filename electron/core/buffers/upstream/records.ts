/** One message for upstream: where it goes and what it carries. */
export interface UpstreamRecord {
  topic: string;
  payload: Buffer;
}

const TOPIC_PART = /^[A-Za-z0-9._-]{1,100}$/;

/** A topic level from a name: kept when inert, otherwise replaced by a fallback (MQTT wildcards never leak in). */
export function topicLevel(name: string, fallback: string): string {
  return TOPIC_PART.test(name) ? name : fallback;
}

/** A topic an outbox row may name: non-empty, no wildcards, no NUL, bounded. */
export function isPublishableTopic(topic: unknown): topic is string {
  return typeof topic === 'string' && topic.length > 0 && topic.length <= 1024 && !/[+#]/.test(topic) && !topic.includes('\0');
}

function looksLikeNdjson(body: Buffer, name: string): boolean {
  if (/\.(ndjson|jsonl)$/i.test(name)) return true;
  const first = body.subarray(0, Math.min(body.length, 4096)).toString('utf8').split('\n')[0]?.trim() ?? '';
  if (!first.startsWith('{')) return false;
  try {
    JSON.parse(first);
    return true;
  } catch {
    return false;
  }
}

function lines(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = body.indexOf(0x0a); i >= 0; i = body.indexOf(0x0a, start)) {
    if (i > start) out.push(body.subarray(start, i));
    start = i + 1;
  }
  if (start < body.length) out.push(body.subarray(start));
  return out;
}

/**
 * Splits a stored segment into upstream records, deterministically (the cursor counts records, so a resumed push
 * must see the same list): NDJSON spool segments give one record per line on `<streamTopic>`; outbox pages give one
 * per row on the row's own topic column; anything else (CSV, binary) is one record carrying the whole segment.
 */
export function recordsOf(kind: 'spool' | 'outbox', segmentName: string, body: Buffer, streamTopic: string): UpstreamRecord[] {
  if (kind === 'outbox') {
    return lines(body).map((line) => {
      const row = JSON.parse(line.toString('utf8')) as { topic?: unknown; payload?: unknown; payloadHex?: unknown };
      const payload =
        typeof row.payloadHex === 'string' ? Buffer.from(row.payloadHex, 'hex') : Buffer.from(row.payload === null || row.payload === undefined ? '' : String(row.payload), 'utf8');
      return { topic: isPublishableTopic(row.topic) ? row.topic : `${streamTopic}/unroutable`, payload };
    });
  }
  if (looksLikeNdjson(body, segmentName)) return lines(body).map((payload) => ({ topic: streamTopic, payload }));
  return [{ topic: streamTopic, payload: body }];
}
