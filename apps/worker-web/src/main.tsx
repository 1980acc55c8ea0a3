import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/app';
import { workerSocketUrl } from './connection/worker-connection';
import { readPageOptions } from './page-options';
import { VolunteerRuntime } from './runtime/volunteer-runtime';
import { WebWorkerThreadHost } from './sandbox/web-worker-thread-host';
import './styles.css';

const cores = navigator.hardwareConcurrency || 1;
const options = readPageOptions(window.location.search, cores);
// Created outside React: StrictMode runs effects twice, and there must be one connection.
const runtime = new VolunteerRuntime(
  workerSocketUrl(window.location),
  options.threads,
  !options.autostart,
  // Job threads: Web Workers from a data: URL, running the hardened thread runtime.
  new WebWorkerThreadHost(),
);
runtime.start();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App runtime={runtime} cores={cores} />
  </StrictMode>,
);
