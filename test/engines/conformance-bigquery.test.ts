import { conformanceSuite } from './conformance/suite.js';

// The conformance suite on bigquery (test/engines/conformance/suite.ts).
await conformanceSuite('bigquery');
