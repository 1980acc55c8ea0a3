/** Counters of one simulated worker since it was created (all connections). */
export interface SimWorkerStats {
  /** Connections that got a `welcome`. */
  connects: number;
  /** Connections that ended after their `welcome`. */
  disconnects: number;
  /** Times `dieMidTask` killed the worker. */
  deaths: number;
  /** Tasks the server sent. */
  tasksReceived: number;
  /** Successful outcomes sent (including lies). */
  tasksDone: number;
  /** Failed outcomes sent: Run threw, `throwRate`, timeouts. */
  tasksFailed: number;
  /** Successful outcomes whose value was a lie (`wrongResults`). */
  lies: number;
  /** Tasks taken and never answered (`hang`). */
  hung: number;
  /** Queued tasks dropped because their job was cancelled or finished. */
  cancelled: number;
  /** Tasks handed back with a `release` frame. */
  released: number;
  /** Tasks held when a connection ended (the server puts them back in its queue). */
  lost: number;
  /** Frames received and sent. */
  framesIn: number;
  framesOut: number;
}

export function emptyStats(): SimWorkerStats {
  return {
    connects: 0,
    disconnects: 0,
    deaths: 0,
    tasksReceived: 0,
    tasksDone: 0,
    tasksFailed: 0,
    lies: 0,
    hung: 0,
    cancelled: 0,
    released: 0,
    lost: 0,
    framesIn: 0,
    framesOut: 0,
  };
}
