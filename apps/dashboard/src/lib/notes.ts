/**
 * Notes (`tg.note('phase 2')`) as vertical markers on the time charts: a uPlot plugin that keeps
 * one absolutely placed element per visible note over the plot (DOM, not canvas, so each has a
 * tooltip, an accessible name and a test id), placed again after every draw.
 */
import type uPlot from 'uplot';

/** A note on a time axis. */
export interface ChartNote {
  /** Epoch ms. */
  at: number;
  text: string;
}

/** Markers drawn per chart at most (the newest win): a page of thousands of notes stays usable. */
export const MAX_MARKERS = 200;

/** The notes inside [minS, maxS] (seconds, uPlot's time scale), oldest first, at most `limit`. */
export function visibleNotes(
  notes: readonly ChartNote[],
  minS: number,
  maxS: number,
  limit = MAX_MARKERS,
): ChartNote[] {
  const inside = notes.filter((n) => n.at / 1000 >= minS && n.at / 1000 <= maxS);
  inside.sort((a, b) => a.at - b.at);
  return inside.length > limit ? inside.slice(inside.length - limit) : inside;
}

/** Reads the notes through `source` at each draw, so new notes need a redraw, not a new chart. */
export function notesPlugin(source: { readonly current: readonly ChartNote[] }): uPlot.Plugin {
  let layer: HTMLDivElement | undefined;
  const place = (u: uPlot) => {
    if (!layer) return;
    const { min, max } = u.scales.x ?? {};
    const shown =
      min === undefined || max === undefined ? [] : visibleNotes(source.current, min, max);
    layer.replaceChildren(
      ...shown.map((note) => {
        const marker = document.createElement('div');
        marker.className = 'note-marker';
        marker.dataset.testid = 'note-marker';
        marker.style.left = `${u.valToPos(note.at / 1000, 'x')}px`;
        const time = new Date(note.at).toLocaleTimeString();
        marker.title = `${time} · ${note.text}`;
        marker.setAttribute('aria-label', `note at ${time}: ${note.text}`);
        const label = document.createElement('span');
        label.className = 'note-marker__label';
        label.textContent = note.text;
        marker.append(label);
        return marker;
      }),
    );
  };
  return {
    hooks: {
      ready: (u) => {
        layer = document.createElement('div');
        layer.className = 'note-layer';
        u.over.append(layer);
        place(u);
      },
      draw: place,
      destroy: () => {
        layer = undefined;
      },
    },
  };
}

/** Notes kept by the page: the server sends at most 1,000 (the newest). */
export const MAX_NOTES = 1_000;

/** `known` and `incoming` without repeats (same time and text), oldest first, the newest 1,000. */
export function mergeNotes(
  known: readonly ChartNote[],
  incoming: readonly ChartNote[],
): ChartNote[] {
  const byKey = new Map<string, ChartNote>();
  for (const note of [...known, ...incoming]) byKey.set(`${note.at}\u0000${note.text}`, note);
  const merged = [...byKey.values()].sort((a, b) => a.at - b.at);
  return merged.length > MAX_NOTES ? merged.slice(merged.length - MAX_NOTES) : merged;
}
