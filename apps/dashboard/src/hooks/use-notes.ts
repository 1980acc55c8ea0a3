/**
 * The notes (`tg.note`) of the last hour for the time charts, from `GET /api/notes?since=MS`,
 * asked again every 5 s for the ones added since the newest seen: a note shows up on an open
 * page within seconds. An admin gets everyone's notes, any other key its owner's.
 */
import { useEffect, useState } from 'react';
import { Type } from '@sinclair/typebox';
import { createDecoder } from '@tabgrid/protocol/codec';
import { Note } from '@tabgrid/protocol/feeds';
import { MAX_NOTES, mergeNotes, type ChartNote } from '../lib/notes.js';

const POLL_MS = 5_000;
/** The widest time chart (Workers) spans an hour. */
const WINDOW_MS = 60 * 60_000;
const decodeNotes = createDecoder(
  Type.Array(Note, { maxItems: MAX_NOTES }),
  'GET /api/notes answer',
);

export function useNotes(token: string): ChartNote[] {
  const [notes, setNotes] = useState<ChartNote[]>([]);

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let since = Date.now() - WINDOW_MS;
    const ask = async () => {
      try {
        const response = await fetch(`${location.origin}/api/notes?since=${since}`, {
          headers: { authorization: `Bearer ${token}` },
          signal: abort.signal,
        });
        // An older server has no such route: no notes, and no retry storm either (5 s).
        if (response.ok) {
          const fresh = decodeNotes(await response.json());
          if (fresh.length > 0) {
            // The next question starts at the newest note seen (repeats are merged away).
            since = Math.max(since, ...fresh.map((n) => n.at));
            setNotes((known) => mergeNotes(known, fresh));
          }
        }
      } catch {
        // Unreachable or refused: the connection banner says so; the notes wait for the next ask.
      }
      if (!abort.signal.aborted) timer = setTimeout(() => void ask(), POLL_MS);
    };
    void ask();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [token]);

  return notes;
}
