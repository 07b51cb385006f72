import { conformanceSuite } from './conformance/suite.js';

// The conformance suite on spark (test/engines/conformance/suite.ts).
await conformanceSuite('spark');
