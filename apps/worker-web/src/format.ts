/** Numbers as volunteers read them: thousands separators in the page's locale. */
const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export function formatCount(n: number): string {
  return whole.format(n);
}

/** CPU time: "850 ms", "12.5 s", "3 min 20 s", "2 h 5 min", "1,234 h". */
export function formatCpuTime(ms: number): string {
  if (ms < 1_000) return `${whole.format(ms)} ms`;
  const seconds = ms / 1_000;
  if (seconds < 60) return `${oneDecimal.format(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.floor(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 100) return `${hours} h ${minutes % 60} min`;
  return `${whole.format(hours)} h`;
}
