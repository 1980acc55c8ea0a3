import { createHash } from 'node:crypto';

/** SHA-256 (lowercase hex) of a job's program text: computed once per job, kept in its record. */
export function programHash(program: string): string {
  return createHash('sha256').update(program, 'utf8').digest('hex');
}
