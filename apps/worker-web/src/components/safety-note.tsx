/** A plain statement of what job code can and cannot do here (see the README's sandbox section). */
export function SafetyNote() {
  return (
    <section className="card safety" aria-label="What job code can do">
      <div className="card__eyebrow">What the tasks can and cannot do on this machine</div>
      <div className="safety__columns">
        <div>
          <h2 className="safety__heading safety__heading--can">Can</h2>
          <ul className="safety__list">
            <li>use the CPU threads you allow, up to your CPU cap</li>
            <li>use memory, within this browser&apos;s limits for a tab</li>
            <li>use the GPU, only for jobs that ask for WebGPU</li>
            <li>compute on the inputs the grid sends and return results to it</li>
          </ul>
        </div>
        <div>
          <h2 className="safety__heading safety__heading--cannot">Cannot</h2>
          <ul className="safety__list">
            <li>reach the network: no requests to any site, not even this server</li>
            <li>see this page, your other tabs, cookies, storage or files</li>
            <li>see other jobs&apos; code or data</li>
            <li>keep running once you pause, close or reload this tab</li>
          </ul>
        </div>
      </div>
      <p className="muted safety__footnote">
        Each job runs in Web Workers of its own with an opaque origin; the browser&apos;s sandbox
        applies as for any web page.
      </p>
    </section>
  );
}
