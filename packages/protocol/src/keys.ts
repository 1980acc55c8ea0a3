import { Type, type Static } from '@sinclair/typebox';
import { createDecoder } from './codec.js';

/**
 * What a key may do: `admin` everything (including keys); `client` creates jobs and sees and
 * changes only its own; `viewer` reads what its owner may read and changes nothing.
 */
export const Role = Type.Union([
  Type.Literal('admin'),
  Type.Literal('client'),
  Type.Literal('viewer'),
]);
export type Role = Static<typeof Role>;

/**
 * Body of `POST /api/keys`.
 *
 * @example
 * { "name": "alice", "role": "client" }
 * { "name": "alice-dashboard", "role": "viewer", "owner": "alice" }
 */
export const CreateKeyRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$' }),
  role: Role,
  /** For a viewer: the client key whose jobs it may read (all jobs when absent). */
  owner: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});
export type CreateKeyRequest = Static<typeof CreateKeyRequest>;

/** A key as listed; the secret is never shown again after creation. */
export const ApiKeyInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Role,
  owner: Type.Union([Type.String(), Type.Null()]),
  created: Type.String(),
});
export type ApiKeyInfo = Static<typeof ApiKeyInfo>;

/** The answer to a key creation: the only time the secret is shown. */
export const CreatedKey = Type.Composite([ApiKeyInfo, Type.Object({ secret: Type.String() })]);
export type CreatedKey = Static<typeof CreatedKey>;

export const decodeCreateKeyRequest = createDecoder(CreateKeyRequest, 'key request');
export const decodeApiKeyInfo = createDecoder(ApiKeyInfo, 'key');
/** `GET /api/keys`: the keys, oldest first, without their secrets. */
export const ApiKeyList = Type.Array(ApiKeyInfo);
export const decodeApiKeyList = createDecoder(ApiKeyList, 'key list');
export const decodeCreatedKey = createDecoder(CreatedKey, 'created key');

/** `GET /api/whoami`: whose credentials these are, so a UI can hide what the key may not do. */
export const WhoAmI = Type.Object({ name: Type.String(), role: Role });
export type WhoAmI = Static<typeof WhoAmI>;
export const decodeWhoAmI = createDecoder(WhoAmI, 'whoami answer');
