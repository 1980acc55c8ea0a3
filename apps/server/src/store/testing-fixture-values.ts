/**
 * Reading the JSON written beside a database fixture (store/fixtures/v*.json) in the migration
 * and upgrade tests: every step checked, since the fixture is data read from disk.
 */

/** The fixture's value at `path`. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) throw new Error(`fixture has no ${path.join('.')}`);
    v = Reflect.get(v, key);
  }
  return v;
}

export function list(value: unknown, ...path: (string | number)[]): unknown[] {
  const v = at(value, ...path);
  if (!Array.isArray(v)) throw new Error(`fixture's ${path.join('.')} is no list`);
  return v;
}

export function text(value: unknown): string {
  if (typeof value !== 'string') throw new Error('fixture: expected text');
  return value;
}

/** What `fn` threw (it must throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** Items sorted by id, as the stores list them in no set order. */
export const byId = <T extends { id: string }>(items: T[]): T[] =>
  [...items].sort((a, b) => a.id.localeCompare(b.id));
