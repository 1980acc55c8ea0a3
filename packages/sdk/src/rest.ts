/**
 * The REST API as the SDK's REST users (key admin, the CLI) call it: JSON requests whose error
 * answers become {@link TabgridError}s with the server's code, and NDJSON streams read a line at
 * a time.
 */
import { ErrorCode, TabgridError, errorFromBody } from '@tabgrid/protocol/errors';
import { decodeErrorBody } from '@tabgrid/protocol/http';

/** Longest NDJSON line accepted from the server (a line is one log line, event or series item). */
const MAX_LINE_CHARS = 64 * 1024 * 1024;

export class RestClient {
  constructor(
    readonly url: string,
    private readonly token: string | undefined,
  ) {}

  /** A JSON request; resolves with the parsed answer (undefined for an empty body). */
  async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.fetch(method, path, body);
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
      if (res.ok) {
        throw new TabgridError(ErrorCode.PROTOCOL, `${method} ${path} answered with invalid JSON.`);
      }
    }
    if (!res.ok) throw this.failure(method, path, res.status, parsed);
    return parsed;
  }

  /** The non-blank lines of an NDJSON answer to `GET path`, as they arrive. */
  async *lines(path: string): AsyncGenerator<string, void, undefined> {
    const res = await this.fetch('GET', path);
    if (!res.ok) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await res.text());
      } catch {
        parsed = undefined;
      }
      throw this.failure('GET', path, res.status, parsed);
    }
    if (!res.body) return;
    const decoder = new TextDecoder();
    let carry = '';
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const parts = (carry + decoder.decode(value, { stream: true })).split('\n');
        carry = parts.pop() ?? '';
        if (carry.length > MAX_LINE_CHARS) {
          throw new TabgridError(
            ErrorCode.PROTOCOL,
            `GET ${path} sent a line longer than ${MAX_LINE_CHARS / 1024 / 1024} MB.`,
          );
        }
        for (const part of parts) if (part.trim() !== '') yield part;
      }
    } catch (err) {
      if (err instanceof TabgridError) throw err;
      // The server cut the answer short (HTTP's way of saying "incomplete"): resume with ?from.
      throw new TabgridError(
        ErrorCode.DISCONNECTED,
        `GET ${path} was cut short (${(err as Error).message}); run the command again.`,
      );
    } finally {
      reader.releaseLock();
      void res.body.cancel().catch(() => undefined);
    }
    carry += decoder.decode();
    if (carry.trim() !== '') yield carry;
  }

  private async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(new URL(path, this.url), {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (err) {
      throw new TabgridError(
        ErrorCode.DISCONNECTED,
        `Cannot reach ${this.url} (${(err as Error).message}): is the server running?`,
      );
    }
  }

  private failure(method: string, path: string, status: number, body: unknown): TabgridError {
    try {
      return errorFromBody(decodeErrorBody(body));
    } catch {
      // Not one of ours (a proxy's error page, say): say what happened.
      return new TabgridError(ErrorCode.INTERNAL, `${method} ${path} failed with HTTP ${status}.`);
    }
  }
}
