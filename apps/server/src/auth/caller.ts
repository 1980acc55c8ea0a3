import type { Role } from '@tabgrid/protocol/keys';

/** Who is asking: jobs belong to an owner; admins (and unscoped viewers) see every job. */
export interface Caller {
  /** The key's name (`admin` for the admin token). */
  name: string;
  /** Whose jobs the caller works on: its own name, or for a scoped viewer the client's. */
  owner: string;

  role: Role;
  seesAll: boolean;
}
