import { describeFeedStore } from '../feed-store.conformance.js';
import { describeJobStore } from '../job-store.conformance.js';
import { PgJobStore } from './pg-job-store.js';
import { describeWithPostgres, schemaPerDirectory } from './pg-test-database.js';

// The same suites as SqliteJobStore's (sqlite-job-store.test.ts), on PostgreSQL.
describeWithPostgres('PgJobStore', (url) => {
  const options = schemaPerDirectory(url);
  describeJobStore('PgJobStore', (dir) => new PgJobStore(options(dir)));
  describeFeedStore('PgJobStore', (dir) => new PgJobStore(options(dir)));
});
