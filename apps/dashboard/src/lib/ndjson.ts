/**
 * Lines of a newline-delimited JSON response body, as they arrive (a live `?stream` never ends
 * while the job runs). A line longer than `maxLineChars` stops the read with an error instead of
 * growing the buffer without bound. Blank lines (the server's keep-alive padding) are skipped.
 */
export async function* ndjsonLines(
  body: ReadableStream<Uint8Array>,
  maxLineChars: number,
): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffered += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n', start)) {
        const line = buffered.slice(start, end).trim();
        start = end + 1;
        if (line) yield line;
      }
      buffered = buffered.slice(start);
      if (buffered.length > maxLineChars) {
        throw new Error(`a line of the stream is longer than ${maxLineChars} characters`);
      }
      if (done) {
        const last = buffered.trim();
        if (last) yield last;
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
