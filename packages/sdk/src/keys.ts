import { ErrorCode, TabgridError, errorFromBody } from '@tabgrid/protocol/errors';
import { decodeErrorBody } from '@tabgrid/protocol/http';
import {
  decodeApiKeyList,
  decodeCreatedKey,
  type ApiKeyInfo,
  type CreateKeyRequest,
  type CreatedKey,
} from '@tabgrid/protocol/keys';

/**
 * API keys, over the REST API (`/api/keys`). Needs an admin token.
 *
 * @example
 * const { secret } = await tg.keys.create({ name: 'alice', role: 'client' }); // shown only now
 * for (const key of await tg.keys.list()) console.log(key.name, key.role);
 * await tg.keys.revoke(id);
 */
export class KeyAdmin {
  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
  ) {}

  async create(req: CreateKeyRequest): Promise<CreatedKey> {
    return decodeCreatedKey(await this.request('POST', '/api/keys', req));
  }

  async list(): Promise<ApiKeyInfo[]> {
    return decodeApiKeyList(await this.request('GET', '/api/keys'));
  }

  async revoke(id: string): Promise<void> {
    await this.request('DELETE', `/api/keys/${encodeURIComponent(id)}`);
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.url), {
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
    if (!res.ok) {
      let error: TabgridError;
      try {
        error = errorFromBody(decodeErrorBody(parsed));
      } catch {
        // Not one of ours (a proxy's error page, say): say what happened.
        error = new TabgridError(
          ErrorCode.INTERNAL,
          `${method} ${path} failed with HTTP ${res.status}.`,
        );
      }
      throw error;
    }
    return parsed;
  }
}
