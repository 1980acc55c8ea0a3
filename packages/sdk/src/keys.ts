import {
  decodeApiKeyList,
  decodeCreatedKey,
  type ApiKeyInfo,
  type CreateKeyRequest,
  type CreatedKey,
} from '@tabgrid/protocol/keys';
import { RestClient } from './rest.js';

/**
 * API keys, over the REST API (`/api/keys`). Needs an admin token.
 *
 * @example
 * const { secret } = await tg.keys.create({ name: 'alice', role: 'client' }); // shown only now
 * for (const key of await tg.keys.list()) console.log(key.name, key.role);
 * await tg.keys.revoke(id);
 */
export class KeyAdmin {
  private readonly rest: RestClient;

  constructor(url: string, token: string | undefined) {
    this.rest = new RestClient(url, token);
  }

  async create(req: CreateKeyRequest): Promise<CreatedKey> {
    return decodeCreatedKey(await this.request('POST', '/api/keys', req));
  }

  async list(): Promise<ApiKeyInfo[]> {
    return decodeApiKeyList(await this.request('GET', '/api/keys'));
  }

  async revoke(id: string): Promise<void> {
    await this.request('DELETE', `/api/keys/${encodeURIComponent(id)}`);
  }

  private request(method: string, path: string, body?: unknown): Promise<unknown> {
    return this.rest.json(method, path, body);
  }
}
