import { BYTES_TAG, base64, mapDeep } from '@tabgrid/protocol/bytes';

/**
 * A thread's outcome texts whose results' typed arrays are attached (tags `at`/`length` into
 * `attachments` laid end to end) → the same outcomes in the text form (base64), or undefined
 * when a tag points outside the attachments (outcome-check.ts then reports the thread).
 *
 * Only for a message that also holds text-form tags: typed arrays in a task's collected series
 * are JSON text from the moment `tabgrid.collect` copies them, and one frame carries one form.
 * Rare; everything else goes as the attached frame, without base64 (issue 18).
 */
export function toTextFormOutcomes(
  outcomes: string,
  attachments: readonly ArrayBuffer[],
): string | undefined {
  let size = 0;
  for (const buffer of attachments) size += buffer.byteLength;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const buffer of attachments) {
    bytes.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  try {
    const items = JSON.parse(`[${outcomes}]`) as unknown[];
    const texts = items.map((item) =>
      JSON.stringify(
        mapDeep(item, (value) => {
          const tag = value as Record<string, unknown>;
          const { at, length } = tag;
          if (!(BYTES_TAG in tag) || typeof at !== 'number' || typeof length !== 'number') {
            return value;
          }
          if (!Number.isSafeInteger(at) || !Number.isSafeInteger(length) || at < 0 || length < 0) {
            throw new RangeError('a bytes tag without valid offsets');
          }
          if (at + length > size) throw new RangeError('a bytes tag past the attachments');
          return { [BYTES_TAG]: tag[BYTES_TAG], base64: base64(bytes.subarray(at, at + length)) };
        }),
      ),
    );
    return texts.join(',');
  } catch {
    return undefined;
  }
}
