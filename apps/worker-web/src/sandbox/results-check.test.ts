import { describe, expect, it } from 'vitest';
import type { ThreadToPage } from '@tabgrid/job-runtime/sandbox-protocol';
import { job, setup } from './testing/pool-harness';

// Issue 18 on the page: typed arrays to the threads as they are, results' bytes attached.
const bytesJob = { ...job, liveInputs: true };
const attachedOutcome = (index: number, at: number, length: number) =>
  JSON.stringify({
    jobId: 'j',
    index,
    ms: 0,
    ok: true,
    value: { '$tabgrid.bytes': 'Float32Array', at, length },
  });

function reply(outcomes: string[], attachments: ArrayBuffer[]): ThreadToPage {
  const text = outcomes.join(',');
  return {
    type: 'results',
    chunkId: 1,
    outcomes: text,
    count: outcomes.length,
    failures: 0,
    ms: 0,
    done: true,
    tel: '',
    attachments,
  };
}

describe('typed arrays between the page and its threads', () => {
  it('hands a job with binary inputs its tasks as an array, and asks for attached results', () => {
    const input = new Float32Array([1, 2]);
    const { host, run } = setup([{ job: bytesJob, tasks: [{ index: 0, input }], exact: false }]);
    const sent = run(host.threads[0]!);
    expect(sent).toMatchObject({ type: 'run', attach: true });
    expect(sent?.type === 'run' && sent.tasks).toEqual([{ index: 0, input }]);
  });

  it('forwards attached outcomes with their bytes when the tags tile them', () => {
    const tasks = [0, 1].map((index) => ({ index, input: index }));
    const { host, outcomes, attached, faults } = setup([{ job: bytesJob, tasks, exact: false }]);
    const bytes = [new Float32Array([1]).buffer, new Float32Array([2, 3]).buffer];
    host.threads[0]!.reply(reply([attachedOutcome(0, 0, 4), attachedOutcome(1, 4, 8)], bytes));
    expect(faults).toEqual([]);
    expect(outcomes).toHaveLength(2);
    expect(attached).toEqual([bytes]);
  });

  it('reports a thread whose tags do not match its attachments', () => {
    const { host, attached, faults } = setup([
      { job: bytesJob, tasks: [{ index: 0, input: 0 }], exact: false },
    ]);
    host.threads[0]!.reply(reply([attachedOutcome(0, 0, 8)], [new ArrayBuffer(4)]));
    expect(attached).toEqual([]);
    expect(faults).toMatchObject([
      { reason: expect.stringMatching(/attachments that do not match/) },
    ]);
  });

  it('sends outcomes that also hold text-form bytes (collected series) in the text form', () => {
    const { host, outcomes, attached, faults } = setup([
      { job: bytesJob, tasks: [{ index: 0, input: 0 }], exact: false },
    ]);
    const text = JSON.stringify({
      jobId: 'j',
      index: 0,
      ms: 0,
      ok: true,
      value: { '$tabgrid.bytes': 'Float32Array', at: 0, length: 4 },
      series: [{ label: 'x', values: [{ '$tabgrid.bytes': 'Uint8Array', base64: 'AQI=' }] }],
    });
    host.threads[0]!.reply(reply([text], [new Float32Array([0.5]).buffer]));
    expect(faults).toEqual([]);
    expect(attached).toEqual([]);
    expect(JSON.parse(outcomes[0]!)).toMatchObject({
      value: { '$tabgrid.bytes': 'Float32Array', base64: 'AAAAPw==' },
    });
  });
});
