import { describeKeyStore } from '../key-store.conformance.js';
import { PgKeyStore } from './pg-key-store.js';
import { describeWithPostgres, schemaPerDirectory } from './pg-test-database.js';

// The same suite as SqliteKeyStore's (sqlite-key-store.test.ts), on PostgreSQL.
describeWithPostgres('PgKeyStore', (url) => {
  const options = schemaPerDirectory(url);
  describeKeyStore('PgKeyStore', (dir) => new PgKeyStore(options(dir)));
});
