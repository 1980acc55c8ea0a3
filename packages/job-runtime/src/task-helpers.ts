/** Types shared by the task-model parts of the thread runtime (task-api.ts, task-messages.ts). */

/** What the runtime needs of the other parts (task-failures.ts, result-json.ts). */
export interface TaskApiHelpers {
  toJson: (value: unknown) => string;
  reviveBytes: (key: string, value: unknown) => unknown;
  BYTES_TAG: string;
  describe: (error: unknown) => { name: string; message: string };
  deeperThan: (text: string, max: number) => boolean;
  utf8Length: (text: string) => number;
  thousands: (n: number) => string;
}
