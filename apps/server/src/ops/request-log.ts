/**
 * What the log says about requests: every answer of 400 or more with its error code (from the
 * body the error handler sent), at `info` for the client's mistakes and `error` for the server's
 * (logged where they happen, with their stack); every request, with its time, only at `debug`.
 * The path is logged without its query string: nothing a client put there lands in the log.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The code of the TabgridError body a reply carried, kept by the onSend hook. */
const CODE = Symbol('tabgrid error code');
type WithCode = FastifyReply & { [CODE]?: string };

const CODE_IN_BODY = /^\{"error":\{"code":"(TG_ERR_[A-Z_]+)"/;

export function logRequestErrors(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.statusCode >= 400 && typeof payload === 'string') {
      const code = CODE_IN_BODY.exec(payload)?.[1];
      if (code !== undefined) (reply as WithCode)[CODE] = code;
    }
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const details = {
      method: request.method,
      path: request.url.split('?', 1)[0]!.slice(0, 200),
      status,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    // 5xx: the error handler logged it with its stack already.
    if (status >= 400 && status < 500) {
      request.log.info({ ...details, code: (reply as WithCode)[CODE] }, 'request refused');
    } else request.log.debug(details, 'request');
    done();
  });
}
