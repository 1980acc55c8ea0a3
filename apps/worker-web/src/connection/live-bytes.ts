import { fromSocketForm, toTextForm } from '@tabgrid/protocol/bytes';
import type { ServerToWorker } from '@tabgrid/protocol/worker';

/**
 * A binary server frame, decoded with its typed arrays in the socket form (views of the frame:
 * decodeServerToWorkerBytes) → what the page keeps: job args and task inputs with typed arrays
 * of their own (copies, so a thread is sent those bytes and not the whole frame; no base64),
 * `job.tell()` data in the text form the job threads read as JSON. Issue 18.
 */
export function withLiveBytes(message: ServerToWorker): ServerToWorker {
  switch (message.type) {
    case 'job':
      return { ...message, args: fromSocketForm(message.args) };
    case 'tasks':
      return {
        ...message,
        items: message.items.map(({ index, input }) => ({ index, input: fromSocketForm(input) })),
      };
    case 'messages':
      return {
        ...message,
        items: message.items.map((item) => ({ ...item, data: toTextForm(item.data) })),
      };
    default:
      return message;
  }
}
