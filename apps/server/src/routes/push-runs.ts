/**
 * Pushes to the SDK socket within socket.io's attachment bound: a push whose values hold more
 * typed arrays than one message may carry ({@link MAX_SOCKET_ATTACHMENTS}, the SDK's parser
 * refuses more) goes as several messages, in order, the last one carrying the ack that paces
 * the stream. One value with more typed arrays than that on its own (possible only for values
 * that never crossed this socket: a worker's result, a REST upload) goes in the text form
 * (base64), which the SDK decodes the same.
 */
import {
  MAX_SOCKET_ATTACHMENTS,
  countTextTags,
  cutByAttachments,
} from '@tabgrid/protocol/attachments';
import { textToSocketForm, toTextForm } from '@tabgrid/protocol/bytes';

/** The ack of a push that is not the last of its runs: the last one's paces the stream. */
export function ignoreAck(): void {}

/** One pushed value: where its text-form value is, and how to put the socket form back in. */
export interface PushedValue<I> {
  valueOf(item: I): unknown;
  withValue(item: I, value: unknown): I;
}

/**
 * `items` (text form) in the socket form, cut into runs of at most MAX_SOCKET_ATTACHMENTS
 * attachments each; `send(run, last)` is called once per run, in order. Plain JSON items cost
 * one walk each (the one that finds they hold no bytes).
 */
export function pushInRuns<I>(
  items: readonly I[],
  value: PushedValue<I>,
  send: (run: I[], last: boolean) => void,
): void {
  const counted = items.map((item) => {
    const text = value.valueOf(item);
    const count = countTextTags(text);
    if (count === 0) return { item, count: 0 };
    // Too many for one message: base64 tags (bytes the server kept as bytes made text here).
    if (count > MAX_SOCKET_ATTACHMENTS)
      return { item: value.withValue(item, toTextForm(text)), count: 0 };
    return { item: value.withValue(item, textToSocketForm(text)), count };
  });
  const runs = cutByAttachments(counted, (c) => c.count);
  if (runs.length === 0) send([], true);
  runs.forEach((run, i) =>
    send(
      run.map((c) => c.item),
      i === runs.length - 1,
    ),
  );
}
