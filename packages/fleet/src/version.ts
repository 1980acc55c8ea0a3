/** This package's version, sent in every simulated worker's `hello` (kept equal to package.json by a test). */
export const FLEET_VERSION = '0.1.0';
