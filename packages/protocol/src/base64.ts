/** Base64 of bytes, for the text form of typed arrays (./bytes.ts). */

/**
 * The platform's native base64, where there is one: Node's Buffer (the server, the SDK), or
 * `Uint8Array.prototype.toBase64` / `Uint8Array.fromBase64` (Chromium 140+, the worker page).
 * Both run at memory speed; the btoa/atob fallback builds a string of one char per byte and
 * copies it byte by byte (about 30 times slower on a 4 MB array).
 */
interface NativeBase64 {
  encode(bytes: Uint8Array): string;
  decode(text: string): Uint8Array;
}
const nodeBuffer = (
  globalThis as {
    Buffer?: {
      from(
        buffer: ArrayBufferLike,
        offset: number,
        length: number,
      ): { toString(e: 'base64'): string };
      from(text: string, encoding: 'base64'): Uint8Array;
    };
  }
).Buffer;
const webBase64 = Uint8Array as unknown as {
  fromBase64?: (text: string) => Uint8Array;
  prototype: { toBase64?: () => string };
};
const native: NativeBase64 | undefined = nodeBuffer
  ? {
      encode: (bytes) =>
        nodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
      decode: (text) => {
        const buffer = nodeBuffer.from(text, 'base64');
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      },
    }
  : typeof webBase64.fromBase64 === 'function' && typeof webBase64.prototype.toBase64 === 'function'
    ? {
        encode: (bytes) => (bytes as unknown as { toBase64(): string }).toBase64(),
        decode: (text) => webBase64.fromBase64!(text),
      }
    : undefined;

export function base64(bytes: Uint8Array): string {
  if (native) return native.encode(bytes);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/**
 * Base64 text (checked by the caller: stored and received tags are, see checkTextForm) → its
 * bytes. The result may view a bigger buffer (Node's pool): copy it to own the memory.
 */
export function unbase64(text: string): Uint8Array {
  if (native) return native.decode(text);
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}
