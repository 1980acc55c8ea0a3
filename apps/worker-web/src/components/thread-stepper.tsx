import { MAX_THREADS } from '../page-options';
import { formatCount } from '../format';

interface ThreadStepperProps {
  threads: number;
  cores: number;
  onChange: (threads: number) => void;
}

/** Threads this tab runs tasks on; each is one Web Worker, i.e. up to one CPU core. */
export function ThreadStepper({ threads, cores, onChange }: ThreadStepperProps) {
  const over = threads > cores;
  return (
    <div className="stepper">
      <span className="stepper__label" id="threads-label">
        Threads
      </span>
      <div className="stepper__controls" role="group" aria-labelledby="threads-label">
        <button
          type="button"
          className="stepper__button"
          aria-label="Fewer threads"
          data-testid="threads-decrease"
          disabled={threads <= 1}
          onClick={() => onChange(threads - 1)}
        >
          −
        </button>
        <span className="stepper__value" data-testid="threads">
          {threads}
        </span>
        <button
          type="button"
          className="stepper__button"
          aria-label="More threads"
          data-testid="threads-increase"
          disabled={threads >= MAX_THREADS}
          onClick={() => onChange(threads + 1)}
        >
          +
        </button>
      </div>
      {over ? (
        <span
          className="stepper__hint stepper__hint--warn"
          role="alert"
          data-testid="threads-warning"
        >
          More threads than this device&apos;s {formatCount(cores)} logical cores: they only share
          them, and the device may get slow and hot.
        </span>
      ) : (
        <span className="stepper__hint">this device has {formatCount(cores)} logical cores</span>
      )}
    </div>
  );
}
