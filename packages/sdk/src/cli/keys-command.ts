/** `tabgrid keys create|list|revoke`: API keys (an admin token needed). */
import type { CommandContext } from './context.js';
import { UsageError, stringFlag } from './flags.js';
import { table } from './output.js';
import { EXIT } from './usage.js';

export async function keysCommand(
  ctx: CommandContext,
  action: string,
  keyId: string | undefined,
): Promise<number> {
  const { values, io } = ctx;
  const json = values.json === true;
  const tg = ctx.client();
  switch (action) {
    case 'create': {
      const name = stringFlag(values, 'name');
      const role = stringFlag(values, 'role');
      const owner = stringFlag(values, 'owner');
      if (!name || (role !== 'admin' && role !== 'client' && role !== 'viewer')) {
        throw new UsageError('keys create needs --name <name> and --role <admin|client|viewer>.');
      }
      const key = await tg.keys.create({ name, role, ...(owner === undefined ? {} : { owner }) });
      await io.out.write(
        json
          ? `${JSON.stringify(key, null, 2)}\n`
          : `Created ${key.role} key "${key.name}" (id ${key.id}).\nSecret (shown only now): ${key.secret}\n`,
      );
      return EXIT.OK;
    }
    case 'list': {
      const list = await tg.keys.list();
      const rows = list.map((k) => [
        k.id,
        k.name,
        k.role,
        k.owner ? `reads ${k.owner}` : '',
        k.created,
      ]);
      await io.out.write(
        json
          ? `${JSON.stringify(list, null, 2)}\n`
          : list.length === 0
            ? 'No keys (the admin token always works).\n'
            : `${table([['ID', 'NAME', 'ROLE', 'OWNER', 'CREATED'], ...rows])}\n`,
      );
      return EXIT.OK;
    }
    case 'revoke':
      if (!keyId) throw new UsageError('keys revoke needs a key id (see tabgrid keys list).');
      await tg.keys.revoke(keyId);
      await io.out.write(`Revoked key ${keyId}.\n`);
      return EXIT.OK;
    default:
      throw new UsageError(`Unknown keys action "${action}": use create, list or revoke.`);
  }
}
