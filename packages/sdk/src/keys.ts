import { ErrorCode, TabgridError, errorFromBody, type ErrorBody } from '@tabgrid/protocol/errors';
import {
  decodeApiKeyInfo,
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
    const keys = await this.request('GET', '/api/keys');
    if (!Array.isArray(keys))
      throw new TabgridError(ErrorCode.PROTOCOL, 'Expected a list of keys.');
    return keys.map((key) => decodeApiKeyInfo(key));
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
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const error = (parsed as Partial<ErrorBody> | undefined)?.error;
      throw error
        ? errorFromBody({ error })
        : new TabgridError(ErrorCode.INTERNAL, `${method} ${path} failed with HTTP ${res.status}.`);
    }
    return parsed;
  }
}
