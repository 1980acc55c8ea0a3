/** Batches of a job being committed, so a batch resent meanwhile waits for the first instead of doubling. */
/** Where a submitted batch's tasks went. */
export interface BatchAck {
  firstIndex: number;
  count: number;
}

export class PendingBatches {
  private readonly committing = new Map<string, Promise<BatchAck>>();

  get(batchId: string): Promise<BatchAck> | undefined {
    return this.committing.get(batchId);
  }

  all(): IterableIterator<Promise<BatchAck>> {
    return this.committing.values();
  }

  /** Batch `batchId` is being committed until `committed` settles; resolves as it does. */
  async track(batchId: string, committed: Promise<BatchAck>): Promise<BatchAck> {
    this.committing.set(batchId, committed);
    try {
      return await committed;
    } finally {
      this.committing.delete(batchId);
    }
  }
}
