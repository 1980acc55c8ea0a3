/** Display formatting shared by every page. Pure functions: unit-tested in format.test.ts. */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** `1,234` / `12.3k` / `4.56M`: short enough for a tile, exact below ten thousand. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs < 10_000) return Math.round(n).toLocaleString('en-US');
  if (abs < 1_000_000) return `${trim(n / 1000)}k`;
  if (abs < 1_000_000_000) return `${trim(n / 1_000_000)}M`;
  return `${trim(n / 1_000_000_000)}G`;
}

/** Three significant digits, without trailing zeros: 12.3, 123, 1.5. */
function trim(n: number): string {
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  return Number(n.toFixed(digits)).toString();
}

/** Tasks per second: `0`, `0.4`, `12.5`, `1,234`, `98.2k`. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0';
  if (perSecond < 10) return trim(perSecond);
  if (perSecond < 100) return perSecond.toFixed(1).replace(/\.0$/, '');
  return formatCount(perSecond);
}

/**
 * A duration for people: `850 ms`, `4.2 s`, `3 min 20 s`, `2 h 5 min`, `3 d 4 h`. Compact
 * (two units at most) because it sits in table cells.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < SECOND) return `${Math.round(ms)} ms`;
  if (ms < 10 * SECOND) return `${Number((ms / SECOND).toFixed(1))} s`;
  if (ms < MINUTE) return `${Math.round(ms / SECOND)} s`;
  if (ms < HOUR) return twoUnits(ms, MINUTE, 'min', SECOND, 's');
  if (ms < DAY) return twoUnits(ms, HOUR, 'h', MINUTE, 'min');
  return twoUnits(ms, DAY, 'd', HOUR, 'h');
}

function twoUnits(ms: number, big: number, bigName: string, small: number, smallName: string) {
  const total = Math.round(ms / small);
  const perBig = big / small;
  const whole = Math.floor(total / perBig);
  const rest = total - whole * perBig;
  return rest === 0 ? `${whole} ${bigName}` : `${whole} ${bigName} ${rest} ${smallName}`;
}

/** How long ago `iso` was, relative to `now`: `just now`, `42 s ago`, `3 min ago`. */
export function formatAge(iso: string, now: number): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '—';
  const ms = Math.max(0, now - then);
  if (ms < 5 * SECOND) return 'just now';
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)} s ago`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min ago`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)} h ago`;
  return `${Math.floor(ms / DAY)} d ago`;
}

/** `45%`, `99.5%`; never rounds up to 100% before it is. */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '0%';
  const ratio = Math.min(1, part / whole);
  if (ratio >= 1) return '100%';
  const percent = ratio * 100;
  return `${percent >= 99 ? Math.floor(percent * 10) / 10 : Math.floor(percent)}%`;
}

/** A result value on one line, cut to `max` characters. */
export function previewValue(value: unknown, max = 120): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A size in bytes: `512 B`, `1.5 KB`, `45.2 MB`, `1.07 GB` (powers of 1,000, like the browser's task manager). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  if (bytes < 1e6) return `${trim(bytes / 1e3)} KB`;
  if (bytes < 1e9) return `${trim(bytes / 1e6)} MB`;
  return `${trim(bytes / 1e9)} GB`;
}
