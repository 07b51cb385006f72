import { conformanceSuite } from './conformance/suite.js';

// The conformance suite on trino (test/engines/conformance/suite.ts).
await conformanceSuite('trino');
