/**
 * The SDK request `job:task` (replay): one task as submitted, settled or not, with the job's
 * program and args, for the job's owner only; typed arrays come back in the socket form.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { fromSocketForm } from '@tabgrid/protocol/bytes';
import { decodeSdkAck } from '@tabgrid/protocol/sdk';
import { serverPerTest } from '../testing/vitest.js';

const env = serverPerTest();
const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect();
});

function connect(token: string): Promise<Socket> {
  const socket = ioClient(env.url, { auth: { token }, transports: ['websocket'] });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.on('connect', () => resolve(socket));
    socket.on('connect_error', reject);
  });
}

async function askTask(socket: Socket, jobId: string, index: number) {
  const raw = await new Promise<unknown>((resolve) =>
    socket.emit('job:task', { jobId, index }, (answer: unknown) => resolve(answer)),
  );
  return decodeSdkAck['job:task'](raw);
}

describe('job:task', () => {
  it('answers the owner with the input, program and args; another key gets JOB_NOT_FOUND', async () => {
    const program = 'function Run(d, args) { return d; }';
    const job = await env.tg.createJob({ program, args: { w: new Float32Array([0.5]) } });
    await job.submit(['a', { b: new Uint8Array([1, 2]) }]);
    const owner = await connect(env.token);
    const answer = await askTask(owner, job.id, 1);
    if (!answer.ok) throw new Error(answer.error.message);
    expect(answer.data.program).toBe(program);
    expect(answer.data.index).toBe(1);
    expect(fromSocketForm(answer.data.input)).toEqual({ b: new Uint8Array([1, 2]) });
    expect(fromSocketForm(answer.data.args)).toEqual({ w: new Float32Array([0.5]) });
    expect(await askTask(owner, job.id, 2)).toMatchObject({
      ok: false,
      error: { code: 'TG_ERR_NOT_FOUND' },
    });

    const { secret } = await env.tg.keys.create({ name: 'other', role: 'client' });
    const other = await connect(secret);
    expect(await askTask(other, job.id, 0)).toMatchObject({
      ok: false,
      error: { code: 'TG_ERR_JOB_NOT_FOUND' },
    });
  });
});
