import { describeJobStore } from './job-store.conformance.js';
import { SqliteJobStore } from './sqlite-job-store.js';

describeJobStore('SqliteJobStore', (dir) => new SqliteJobStore(dir));
