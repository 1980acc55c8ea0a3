/**
 * Thrown errors told as the worker page tells them (apps/worker-web's task-failures.ts): the
 * program is named `job.js` with its own line numbers, a stack keeps its message lines and the
 * frames in job.js (and the native ones between them), none of the fleet's own, at most 4 KB,
 * and a ReferenceError says that closures stay behind. Only failures pay for it.
 */

/** A thrown error's stack is cut to this many UTF-8 bytes, as on the worker page. */
export const MAX_STACK_BYTES = 4096;

export const CLOSURE_HINT = "closures don't travel with the program: pass values in args";

/**
 * The program as the page compiles it: one line of wrapper, shared with the program's first.
 * It returns `[Run, Setup, Teardown]` (each undefined when not defined) and sees `args`, and the
 * thread's `tabgrid` and `console` (the sim's: ./task-api.ts), as parameters.
 */
export function jobScript(program: string): string {
  return `(function (args, tabgrid, console) {${program}\n;return [typeof Run === "function" ? Run : undefined, typeof Setup === "function" ? Setup : undefined, typeof Teardown === "function" ? Teardown : undefined];\n})\n//# sourceURL=job.js`;
}

/** `message`, with the closure hint if a ReferenceError's message lacks it. */
export function withClosureHint(name: string, message: string): string {
  if (name !== 'ReferenceError' || message.includes(CLOSURE_HINT)) return message;
  return `${message} (${CLOSURE_HINT})`;
}

const FRAME = '    at ';
/** Frame lines scanned past the message: job frames are the innermost, at the top. */
const MAX_SCANNED_CHARS = 1024 * 1024;

function isJobFrame(line: string): boolean {
  return /[( ]job\.js:\d/.test(line) && !line.includes('file:') && !line.includes('data:');
}

/** The longest start of `text` within `max` UTF-8 bytes, never half a surrogate pair. */
function cutBytes(text: string, max: number, marker: string): string {
  if (Buffer.byteLength(text) <= max) return text;
  const room = max - Buffer.byteLength(marker);
  let end = Math.min(text.length, room);
  while (end > 0 && Buffer.byteLength(text.slice(0, end)) > room) end--;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + marker;
}

/** The stack as the user reads it (see the file comment); `told` is the hinted message. */
export function cleanStack(stack: string, name: string, message: string, told: string): string {
  if (stack === '') return '';
  const headerEnd = stack.indexOf(`\n${FRAME}`);
  if (headerEnd === -1) return cutBytes(stack, MAX_STACK_BYTES, stackCut());
  let header = stack.slice(0, headerEnd);
  if (told !== message && header === `${name}: ${message}`) header = `${name}: ${told}`;
  const lines = stack
    .slice(headerEnd + 1, Math.min(stack.length, headerEnd + 1 + MAX_SCANNED_CHARS))
    .split('\n');
  const kept: string[] = [];
  let pending: string[] = [];
  for (const line of lines) {
    if (isJobFrame(line)) {
      kept.push(...pending, line);
      pending = [];
    } else if (line.startsWith(FRAME) && !line.includes('file:') && !line.includes('data:')) {
      if (pending.length < 20) pending.push(line);
    } else pending = [];
    if (kept.length > MAX_STACK_BYTES / 8) break;
  }
  const text = [cutBytes(header, MAX_STACK_BYTES / 4, '\u2026 [message cut]'), ...kept].join('\n');
  return cutBytes(text, MAX_STACK_BYTES, stackCut());
}

function stackCut(): string {
  return `\n    \u2026 [stack cut at ${MAX_STACK_BYTES.toLocaleString('en-US')} bytes]`;
}
