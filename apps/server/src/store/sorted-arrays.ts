/** Sorted-array helpers of the memory stores (they stand in for SQLite's ordered indexes). */

/** Something a memory store's commit undoes when the commit fails. */
export type Undo = () => void;

/** Index of the first element whose key is > `key` (elements sorted by key). */
export function upperBound<T>(
  items: readonly T[],
  key: number,
  keyOf: (item: T) => number,
): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(items[mid]!) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts `item` in key order; the undo removes it again. */
export function insertSorted<T>(
  items: T[],
  item: T,
  keyOf: (item: T) => number,
  undo: Undo[],
): void {
  const at = upperBound(items, keyOf(item), keyOf);
  items.splice(at, 0, item);
  undo.push(() => items.splice(items.indexOf(item), 1));
}
