/**
 * Attack families against `/ws/worker`, the socket any browser on the internet may open. Each
 * one is a simulated worker that lies in one way (issue #11 names the item it probes); they run
 * in this order.
 */
import type { AttackFamily } from './attack.js';
import { bounds, forge, hoard, quorumPair } from './lying-worker-attacks.js';
import { badJsonFamily, deep, garbage, order } from './malformed-frame-attacks.js';
import { binaryAmplify, oversize, sockets } from './resource-attacks.js';

export const WORKER_FAMILIES: readonly AttackFamily[] = [
  garbage,
  badJsonFamily,
  order,
  sockets,
  bounds,
  forge,
  quorumPair,
  hoard,
  oversize,
  deep,
  binaryAmplify,
];
