/**
 * What volunteers see and what their tabs offer (issue 16): who runs the grid (`OperatorInfo`,
 * in the worker's `welcome`), a job's public face (`JobPublic`, the job option `public`, sent to
 * tabs with its program), what a tab offers (`WorkerCapabilities`, in `hello`) and what a job
 * needs of it (`JobRequirements`, the job option `requirements`). Re-exported by ./jobs.ts and
 * ./worker.ts.
 */
import { Type, type Static } from '@sinclair/typebox';

export const VOLUNTEER_LIMITS = {
  maxNameLength: 120,
  maxDescriptionLength: 2_000,
  maxLinkLength: 2_000,
  /** Most WebGPU adapter limits a tab reports. */
  maxGpuLimits: 64,
  maxGpuLimitNameLength: 64,
  /** Largest device memory a tab may report (GB; browsers round down and cap at 8 today). */
  maxDeviceMemoryGb: 1_024,
} as const;

const Name = Type.String({ minLength: 1, maxLength: VOLUNTEER_LIMITS.maxNameLength });
const Description = Type.String({ maxLength: VOLUNTEER_LIMITS.maxDescriptionLength });
/** Only links a page can show safely: no `javascript:` or `data:`. */
const Link = Type.String({
  maxLength: VOLUNTEER_LIMITS.maxLinkLength,
  pattern: '^(https?://|mailto:)[^\\s]+$',
});

/**
 * The job's face on volunteers' pages: shown while their tab runs its tasks, cleared when idle.
 *
 * @example
 * { "name": "Protein folding, batch 7", "description": "Folds small proteins.", "link": "https://example.org/fold" }
 */
export const JobPublic = Type.Object(
  { name: Name, description: Type.Optional(Description), link: Type.Optional(Link) },
  { additionalProperties: false },
);
export type JobPublic = Static<typeof JobPublic>;

/**
 * Who runs this grid, from the server's configuration (TABGRID_OPERATOR_NAME,
 * TABGRID_OPERATOR_DESCRIPTION, TABGRID_OPERATOR_LINK): the worker page shows it.
 */
export const OperatorInfo = Type.Object(
  { name: Name, description: Type.Optional(Description), link: Type.Optional(Link) },
  { additionalProperties: false },
);
export type OperatorInfo = Static<typeof OperatorInfo>;

/**
 * What a tab offers besides its thread count (`hello.threads`). Claims, not proofs: a tab that
 * claims WebGPU and cannot produce a device fails its attempts like any other.
 */
export const WorkerCapabilities = Type.Object({
  /** `navigator.deviceMemory` where the browser exposes it (GB, rounded down by the browser). */
  deviceMemoryGb: Type.Optional(
    Type.Number({ minimum: 0, maximum: VOLUNTEER_LIMITS.maxDeviceMemoryGb }),
  ),
  /** Present when `navigator.gpu.requestAdapter()` gave an adapter. */
  webgpu: Type.Optional(
    Type.Object({
      /** A software adapter (SwiftShader and the like): correct, but slow. */
      fallback: Type.Boolean(),
      /** The adapter's numeric limits by name (`maxStorageBufferBindingSize`, …). */
      limits: Type.Record(
        Type.String({ maxLength: VOLUNTEER_LIMITS.maxGpuLimitNameLength }),
        Type.Number({ minimum: 0 }),
        { maxProperties: VOLUNTEER_LIMITS.maxGpuLimits },
      ),
    }),
  ),
});
export type WorkerCapabilities = Static<typeof WorkerCapabilities>;

/**
 * What a job needs of a tab: only tabs that offer all of it get its tasks. A job no connected
 * tab can serve says so (`JobInfo.unservable`) instead of waiting silently.
 *
 * @example
 * { "webgpu": true, "minThreads": 4 }
 */
export const JobRequirements = Type.Object(
  {
    /** `true`: any WebGPU adapter (software ones too); `'hardware'`: not a software fallback. */
    webgpu: Type.Optional(Type.Union([Type.Boolean(), Type.Literal('hardware')])),
    /** Fewest threads the tab must run. */
    minThreads: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
    /** Least device memory the tab must report (GB): tabs that report none do not qualify. */
    minDeviceMemoryGb: Type.Optional(
      Type.Number({ minimum: 0, maximum: VOLUNTEER_LIMITS.maxDeviceMemoryGb }),
    ),
  },
  { additionalProperties: false },
);
export type JobRequirements = Static<typeof JobRequirements>;

/** What one tab offers, as the server knows it from its hello. */
export interface WorkerOffer {
  threads: number;
  capabilities?: WorkerCapabilities | undefined;
}

/**
 * The first requirement `offer` does not meet, in words ("WebGPU", "4 threads"); undefined
 * when it meets them all.
 */
export function unmetRequirement(
  requirements: JobRequirements | undefined,
  offer: WorkerOffer,
): string | undefined {
  if (!requirements) return undefined;
  const { webgpu, minThreads, minDeviceMemoryGb } = requirements;
  const gpu = offer.capabilities?.webgpu;
  if (webgpu === true && !gpu) return 'WebGPU';
  if (webgpu === 'hardware' && (!gpu || gpu.fallback)) return 'a hardware WebGPU adapter';
  if (minThreads !== undefined && offer.threads < minThreads) return `${minThreads} threads`;
  if (minDeviceMemoryGb !== undefined) {
    const memory = offer.capabilities?.deviceMemoryGb;
    if (memory === undefined || memory < minDeviceMemoryGb) {
      return `${minDeviceMemoryGb} GB of device memory`;
    }
  }
  return undefined;
}
