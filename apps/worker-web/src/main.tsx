import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/app';
import { workerSocketUrl } from './connection/worker-connection';
import { readPageOptions } from './page-options';
import { detectCapabilities } from './runtime/capabilities';
import { VolunteerRuntime } from './runtime/volunteer-runtime';
import { WebWorkerThreadHost } from './sandbox/web-worker-thread-host';
import { ContributionLedger } from './settings/contribution-ledger';
import { VolunteerControls, browserEnvironment } from './settings/volunteer-controls';
import { readSettings } from './settings/volunteer-settings';
import './styles.css';

async function main(): Promise<void> {
  const cores = navigator.hardwareConcurrency || 1;
  const environment = browserEnvironment();
  const storage = environment.storage as Storage | undefined;
  const settings = readSettings(storage, cores);
  // The URL's options (links and tests use them) win over what was remembered.
  const params = new URLSearchParams(window.location.search);
  const options = readPageOptions(window.location.search, cores);
  if (params.has('threads')) settings.threads = options.threads;
  if (!options.autostart) settings.paused = true;
  // Asked once, before hello: what the tab offers decides which jobs' tasks it may get.
  const capabilities = await detectCapabilities();
  // Created outside React: StrictMode runs effects twice, and there must be one connection.
  const runtime = new VolunteerRuntime(
    workerSocketUrl(window.location),
    settings.threads,
    settings.paused,
    // Job threads: Web Workers from a data: URL, running the hardened thread runtime.
    new WebWorkerThreadHost(),
    { capabilities, cpuCap: settings.cpuCap, ledger: new ContributionLedger(storage) },
  );
  const controls = new VolunteerControls(runtime, settings, environment);
  controls.start();
  runtime.start();

  const root = document.getElementById('root');
  if (!root) throw new Error('index.html has no #root element');
  createRoot(root).render(
    <StrictMode>
      <App runtime={runtime} controls={controls} cores={cores} />
    </StrictMode>,
  );
}

void main();
