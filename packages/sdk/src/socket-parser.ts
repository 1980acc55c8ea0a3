/**
 * The SDK socket's parser and its bound on binary attachments (see @tabgrid/protocol/attachments).
 */
import * as parser from 'socket.io-parser';
import {
  MAX_SOCKET_ATTACHMENTS,
  countAttachments,
  tooManyAttachments,
} from '@tabgrid/protocol/attachments';
import type { SdkRequestName } from '@tabgrid/protocol/sdk';

/**
 * socket.io's parser, taking as many binary attachments a message as the server sends at most
 * (its default, 10, would drop the connection at the first push of 11 typed arrays).
 */
class AttachmentsDecoder extends parser.Decoder {
  constructor() {
    super({ maxAttachments: MAX_SOCKET_ATTACHMENTS });
  }
}
export const socketParser = { Encoder: parser.Encoder, Decoder: AttachmentsDecoder };

/**
 * Refuses a request whose payload holds more typed arrays than one message may carry, before it
 * is sent: the server's parser would drop the connection, and the request would fail as a
 * "connection dropped". Submission batches are cut below the bound already (batches.ts).
 */
export function checkAttachments(event: SdkRequestName, payload: unknown): void {
  if (event === 'job:submit') return;
  if (countAttachments(payload) > MAX_SOCKET_ATTACHMENTS) {
    throw tooManyAttachments(event === 'job:create' ? "The job's args" : `The ${event} request`);
  }
}
